declare namespace tuples_prefix_items {
    /** Corpus schema `tuples-prefix-items`. */
    function tuples_prefix_items(args?: {
        /** @minItems 2 */
        point?: [number, number];
        /** @minItems 1 */
        range?: [number, (number | null)?, ...unknown[]];
        /** @minItems 2 */
        header?: ["v1", string, ...boolean[]];
        empty?: [];
        "union-element"?: [(string | number)?];
    }): Promise<unknown>;
}
