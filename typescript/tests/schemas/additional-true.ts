declare namespace additional_true {
    /** Corpus schema `additional-true`. */
    function additional_true(args?: {
        known?: string;
        [key: string]: unknown;
    }): Promise<unknown>;
}
