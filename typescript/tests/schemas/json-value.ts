declare namespace json_value {
    /** Any JSON value */
    type Json = null | boolean | number | string | Json[] | {
        [key: string]: Json;
    };
    /** Corpus schema `json-value`. */
    function json_value(args: {
        value: Json;
    }): Promise<unknown>;
}
