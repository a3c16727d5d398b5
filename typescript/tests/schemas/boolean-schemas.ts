declare namespace boolean_schemas {
    /** Corpus schema `boolean-schemas`. */
    function boolean_schemas(args: {
        anything: unknown;
        nothing?: never;
        list?: unknown[];
        map?: {
            [key: string]: never;
        };
    }): Promise<unknown>;
}
