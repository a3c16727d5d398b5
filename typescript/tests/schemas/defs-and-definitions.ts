declare namespace defs_and_definitions {
    type User = {
        login?: string;
    };
    type DefsAndDefinitionsUser = {
        id?: number;
    };
    type Team = {
        members?: User[];
        legacy?: DefsAndDefinitionsUser;
    };
    /** Corpus schema `defs-and-definitions`. */
    function defs_and_definitions(args?: {
        team?: Team;
        owner?: User;
    }): Promise<unknown>;
}
