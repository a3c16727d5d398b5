declare namespace cycle_self_ref {
    /** A linked list node that refers to the whole document. */
    type CycleSelfRefInput = {
        value: number;
        next?: CycleSelfRefInput;
    };
    /** Corpus schema `cycle-self-ref`. */
    function cycle_self_ref(args: {
        value: number;
        next?: CycleSelfRefInput;
    }): Promise<unknown>;
}
