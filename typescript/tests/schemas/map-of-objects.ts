declare namespace map_of_objects {
    /** Corpus schema `map-of-objects`. */
    function map_of_objects(args?: {
        [key: string]: unknown;
    }): Promise<unknown>;
}
