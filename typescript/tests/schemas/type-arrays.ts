declare namespace type_arrays {
    /** Corpus schema `type-arrays`. */
    function type_arrays(args?: {
        a?: string | null;
        b?: string | number | boolean;
        c?: {
            x?: string;
        } | null;
        d?: number[] | string;
        /** @minimum 0 */
        e?: number | null;
        f?: never;
    }): Promise<unknown>;
}
