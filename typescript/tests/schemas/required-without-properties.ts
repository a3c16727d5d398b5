declare namespace required_without_properties {
    /** Corpus schema `required-without-properties`. */
    function required_without_properties(args: {
        real: string;
        ghost: unknown;
    }): Promise<unknown>;
}
