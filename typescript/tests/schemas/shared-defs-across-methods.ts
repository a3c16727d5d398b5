declare namespace shared_defs_across_methods {
    type User = {
        login?: string;
        team?: Team;
    };
    type Team = {
        name?: string;
    };
    /** Uses user */
    function a(args?: {
        u?: User;
    }): Promise<User>;
    type BUser = {
        login?: string;
        team?: BTeam;
    };
    type BTeam = {
        id?: number;
    };
    /** Same user, different team */
    function b(args?: {
        u?: BUser;
    }): Promise<unknown>;
    type CSelfInput = {
        parent?: CSelfInput;
    };
    type CSelfOutput = CSelfOutput[];
    /** Self-referencing input and output */
    function c_self(args?: {
        parent?: CSelfInput;
    }): Promise<CSelfOutput[]>;
}
