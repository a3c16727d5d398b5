declare namespace empty_schema {
    /** Corpus schema `empty-schema`. */
    function empty_schema(args?: unknown): Promise<unknown>;
}
