declare namespace additional_false {
    /** Corpus schema `additional-false`. */
    function additional_false(args: {
        only: string;
    }): Promise<unknown>;
}
