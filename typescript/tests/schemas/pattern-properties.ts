declare namespace pattern_properties {
    /** Corpus schema `pattern-properties`. */
    function pattern_properties(args?: {
        name?: string;
        /**
         * Keys matching `^x-`.
         * Keys matching `^[0-9]+$`.
         * Keys matching `*\/`.
         */
        [key: string]: string | number | null | undefined;
    }): Promise<unknown>;
}
