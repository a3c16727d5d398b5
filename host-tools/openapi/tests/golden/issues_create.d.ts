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
    // Not declared here: NullableSimpleUser, SimpleUser, NullableMilestone, IssueType, Repository, NullableIntegration, AuthorAssociation, ReactionRollup, SubIssuesSummary, NullableIssueComment, IssueDependenciesSummary, IssueFieldValue; codemode.describe("github.issues_create", { expand: ["NullableSimpleUser"] }) adds one.
    /**
     * Create an issue
     * @see POST /repos/{owner}/{repo}/issues
     */
    function issues_create(args: {
        /** The account owner of the repository. */
        owner: string;
        /** The name of the repository without the `.git` extension. */
        repo: string;
        /** The title of the issue. */
        title: string | number;
        /** The contents of the issue. */
        body?: string;
        /** Login for the user that this issue should be assigned to. */
        assignee?: string | null;
        milestone?: string | number | null;
        /** Labels to associate with this issue. */
        labels?: (string | {
            id?: number;
            name?: string;
            description?: string | null;
            color?: string | null;
        })[];
        /** Logins for Users to assign to this issue. */
        assignees?: string[];
        /** An array of issue field values to set on this issue. */
        issue_field_values?: {
            /** The ID of the issue field to set */
            field_id: number;
            /** The value to set for the field. */
            value: string | number | string[];
        }[];
        /** The name of the issue type to associate with this issue. */
        type?: string | null;
    }): Promise<HttpResponse<Issue>>;
}
