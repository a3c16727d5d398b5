declare namespace composition_edge {
    type A = {
        a?: string;
    };
    type B = {
        b?: string;
    };
    /** Corpus schema `composition-edge`. */
    function composition_edge(args?: {
        emptyAllOf?: unknown;
        emptyAnyOf?: never;
        unknownBranch?: unknown;
        neverBranch?: string;
        typedUnion?: A | B;
        nestedUnion?: ((string | number)[] | null)[];
        intersectUnion?: (string | number) & (number | boolean);
        not?: unknown;
    }): Promise<unknown>;
}
