declare namespace unions_anyof_oneof {
    /** Corpus schema `unions-anyof-oneof`. */
    function unions_anyof_oneof(args?: {
        id?: string | number;
        shape?: {
            kind: "circle";
            /** @exclusiveMinimum 0 */
            radius: number;
        } | {
            kind: "rect";
            w: number;
            h: number;
        };
        mixed?: {
            common?: string;
        } & ({
            a: unknown;
        } | {
            b: unknown;
        });
    }): Promise<unknown>;
}
