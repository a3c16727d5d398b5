declare namespace cycle_defs {
    type Tree = {
        name: string;
        children: Tree[];
    };
    /** Corpus schema `cycle-defs`. */
    function cycle_defs(args?: {
        root?: Tree;
    }): Promise<unknown>;
}
