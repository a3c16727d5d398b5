declare namespace tuples_draft07 {
    /** Corpus schema `tuples-draft07`. */
    function tuples_draft07(args: {
        /**
         * @minItems 2
         * @maxItems 2
         */
        pair: [string, number];
        open?: [string?, ...unknown[]];
        /** @minItems 1 */
        rest?: [string, ...number[]];
    }): Promise<unknown>;
}
