declare namespace allof_intersections {
    type Base = {
        id: string;
    };
    type Timestamps = {
        /** @format date-time */
        createdAt?: string;
        /** @format date-time */
        updatedAt?: string;
    };
    /** Corpus schema `allof-intersections`. */
    function allof_intersections(args: Base & Timestamps & {
        /** @maxLength 200 */
        title: string;
    } & ({
        body: string;
    } | {
        /** @format uri */
        url: string;
    })): Promise<unknown>;
}
