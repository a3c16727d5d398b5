declare namespace enums_odd {
    /** Corpus schema `enums-odd`. */
    function enums_odd(args?: {
        status?: "open" | "closed" | "it's \"quoted\"" | "back\\slash" | "new\nline" | "*/ end comment" | "" | null;
        numbers?: 0 | -1 | 1.5 | 1e+21 | 42;
        mixed?: "a" | 1 | true | null | [1, "x"] | { k: "v" };
        single?: "only";
        nothing?: never;
        bool?: false;
        nullConst?: null;
    }): Promise<unknown>;
}
