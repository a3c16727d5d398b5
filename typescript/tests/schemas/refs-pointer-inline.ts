declare namespace refs_pointer_inline {
    /** Corpus schema `refs-pointer-inline`. */
    function refs_pointer_inline(args?: {
        a?: {
            inner?: "x" | "y";
        };
        b?: "x" | "y";
        c?: unknown;
        d?: unknown;
        e?: unknown;
    }): Promise<unknown>;
}
