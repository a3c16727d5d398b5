declare namespace github {
    /**
     * What an operation resolves to, as with Octokit: `data` is the body (parsed JSON), header names are lower case. It rejects with a `ConnectorError` when the status is 400 or more.
     */
    interface HttpResponse<T> {
        data: T;
        status: number;
        headers: {
            [key: string]: string;
        };
        /** `"base64"` when the body is not text: `data` is then its base64. */
        encoding?: "base64";
        /** @deprecated `data` under its former name; it goes in a later release. */
        readonly body: T;
    }
    /** Issues are a great way to keep track of tasks, enhancements, and bugs for your projects. */
    type Issue = {
        id: number;
        node_id: string;
        /** URL for the issue */
        url: string;
        repository_url: string;
        labels_url: string;
        comments_url: string;
        events_url: string;
        html_url: string;
        /** Number uniquely identifying the issue within its repository */
        number: number;
        /** State of the issue; either 'open' or 'closed' */
        state: string;
        /** The reason for the current state */
        state_reason?: "completed" | "reopened" | "not_planned" | "duplicate" | null;
        /** Title of the issue */
        title: string;
        /** Contents of the issue */
        body?: string | null;
        user: NullableSimpleUser;
        /**
         * Labels to associate with this issue; pass one or more label names to replace the set of labels on this issue; send an empty array to clear all labels from the i…
         */
        labels: (string | {
            id?: number;
            node_id?: string;
            url?: string;
            name?: string;
            description?: string | null;
            color?: string | null;
            default?: boolean;
        })[];
        assignee: NullableSimpleUser;
        assignees?: SimpleUser[];
        milestone: NullableMilestone;
        locked: boolean;
        active_lock_reason?: string | null;
        comments: number;
        pull_request?: {
            merged_at?: string | null;
            diff_url: string | null;
            html_url: string | null;
            patch_url: string | null;
            url: string | null;
        };
        closed_at: string | null;
        created_at: string;
        updated_at: string;
        draft?: boolean;
        closed_by?: NullableSimpleUser;
        body_html?: string;
        body_text?: string;
        timeline_url?: string;
        type?: IssueType;
        repository?: Repository;
        performed_via_github_app?: NullableIntegration;
        author_association?: AuthorAssociation;
        reactions?: ReactionRollup;
        sub_issues_summary?: SubIssuesSummary;
        /** URL to get the parent issue of this issue, if it is a sub-issue */
        parent_issue_url?: string | null;
        pinned_comment?: NullableIssueComment;
        issue_dependencies_summary?: IssueDependenciesSummary;
        issue_field_values?: IssueFieldValue[];
    };
    // Not declared here: NullableSimpleUser, SimpleUser, NullableMilestone, IssueType, Repository, NullableIntegration, AuthorAssociation, ReactionRollup, SubIssuesSummary, NullableIssueComment, IssueDependenciesSummary, IssueFieldValue; codemode.describe("github.issues_list_for_repo", { expand: ["NullableSimpleUser"] }) adds one.
    /**
     * List repository issues
     * @see GET /repos/{owner}/{repo}/issues
     */
    function issues_list_for_repo(args: {
        /** The account owner of the repository. */
        owner: string;
        /** The name of the repository without the `.git` extension. */
        repo: string;
        /** If an `integer` is passed, it should refer to a milestone by its `number` field. */
        milestone?: string;
        /**
         * Indicates the state of the issues to return.
         * @default open
         */
        state?: "open" | "closed" | "all";
        /** Can be the name of a user. */
        assignee?: string;
        /** Can be the name of an issue type. */
        type?: string;
        /** The user that created the issue. */
        creator?: string;
        /** A user that's mentioned in the issue. */
        mentioned?: string;
        /** A comma-separated list of issue field filters in `field_slug:value` format. */
        issue_field_values?: string;
        /** A list of comma separated label names. */
        labels?: string;
        /**
         * What to sort results by.
         * @default created
         */
        sort?: "created" | "updated" | "comments";
        /**
         * The direction to sort the results by.
         * @default desc
         */
        direction?: "asc" | "desc";
        /** Only show results that were last updated after the given time. */
        since?: string;
        /**
         * The number of results per page (max 100).
         * @default 30
         */
        per_page?: number;
        /**
         * The page number of the results to fetch.
         * @default 1
         */
        page?: number;
    }): Promise<HttpResponse<Issue[]>>;
}
