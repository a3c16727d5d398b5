declare namespace nullable_openapi30 {
    type Thing = {
        id?: number;
    };
    /** Corpus schema `nullable-openapi30`. */
    function nullable_openapi30(args: {
        a: string | null;
        b?: Thing | null;
        c?: (number | null)[] | null;
        d?: "x" | "y" | null;
    }): Promise<unknown>;
}
