declare namespace odd_method_names {
    /**
     * Gets an issue. Then more.
     *
     * @returns The issue
     */
    function get_issue_2(args: {
        number: number;
    }): Promise<{
        title?: string;
    }>;
    /** The identifier that wins */
    function get_issue(args?: {
        [key: string]: unknown;
    }): Promise<unknown>;
    /** A reserved word */
    function delete_(args: {
        id: string;
    }): Promise<unknown>;
    /** Leading digit */
    function _2fa(args?: unknown): Promise<unknown>;
    /** Dots, slashes and spaces */
    function repos_list_all_items(args?: {
        page?: number;
    }): Promise<unknown>;
    /** The empty name */
    function _(args?: unknown): Promise<unknown>;
    /** *\/ in a description */
    function class_(args?: {
        [key: string]: unknown;
    }): Promise<never>;
}
