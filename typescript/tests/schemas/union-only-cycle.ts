declare namespace union_only_cycle {
    type A = unknown;
    type B = unknown;
    /** Corpus schema `union-only-cycle`. */
    function union_only_cycle(args?: {
        a?: A;
        b?: B;
    }): Promise<unknown>;
}
