namespace AgentMarket.Platform.Errors;

/// <summary>
/// Stable machine codes carried in every problem response's <c>code</c> member (SPEC §10). Clients switch on these,
/// so they never change once shipped.
/// </summary>
public static class ProblemCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string MalformedJson = "malformed_json";
    public const string BadRequest = "bad_request";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string InsufficientRole = "insufficient_role";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Conflict = "conflict";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";

    /// <summary>What a rate limit policy's refusal says (the API's 429; the pages whose forms share a policy's budget).</summary>
    public const string RateLimitedMessage = "Too many requests; slow down.";
    public const string InternalError = "internal_error";
    public const string ServiceUnavailable = "service_unavailable";
    public const string IdempotencyConflict = "idempotency_conflict";

    /// <summary>409: a key's rotation kept losing to concurrent rotations of it; nothing changed and no secret is shown (ADR-141).</summary>
    public const string KeyRotationConflict = "key_rotation_conflict";

    /// <summary>422: an <c>Idempotency-Key</c> sent again with a different request than the one it was first used for.</summary>
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string InsufficientCredits = "insufficient_credits";
    public const string ModelNotConfigured = "model_not_configured";

    /// <summary>409: the agent's provider keeps its prompts from buyers' own model endpoints (ADR-138).</summary>
    public const string OwnModelEndpointNotAllowed = "own_model_endpoint_not_allowed";

    public const string EmailTaken = "email_taken";
    public const string InvalidCredentials = "invalid_credentials";
    public const string AccountLocked = "account_locked";
    public const string HandleTaken = "handle_taken";
    public const string AlreadyProvider = "already_provider";

    /// <summary>409: the provider edited (or withdrew) its profile edit since the operator read it; nothing changed (ADR-170).</summary>
    public const string ProviderProfileChanged = "provider_profile_changed";
    public const string LastOwner = "last_owner";
    public const string DefaultProject = "default_project";

    /// <summary>403: the key lacks the scope the request needs (a read-only key asked to run).</summary>
    public const string InsufficientScope = "insufficient_scope";

    /// <summary>409: a project that still holds live subscriptions cannot be deleted.</summary>
    public const string ProjectInUse = "project_in_use";
    public const string AlreadyMember = "already_member";
    public const string InvitationInvalid = "invitation_invalid";
    public const string PasswordResetInvalid = "password_reset_invalid";

    /// <summary>400: an email change link that was used, replaced, ended by a new password, or has expired (ADR-139).</summary>
    public const string EmailChangeInvalid = "email_change_invalid";

    /// <summary>409: an account without a password (single sign-on) cannot change its email here (ADR-139).</summary>
    public const string EmailChangeNotAllowed = "email_change_not_allowed";

    /// <summary>403: an email change link opened by someone signed in as another account than the one that asked (ADR-139).</summary>
    public const string EmailChangeOtherAccount = "email_change_other_account";

    /// <summary>400: a link to undo an email change that was used, ended by an undo of an earlier change, or has expired (ADR-142).</summary>
    public const string EmailRevertInvalid = "email_revert_invalid";
    public const string OrganizationSuspended = "organization_suspended";

    /// <summary>400: an auto top-up threshold one purchase of the chosen package cannot lift the available balance above (ADR-145).</summary>
    public const string AutoTopUpThresholdTooHigh = "auto_top_up_threshold_too_high";
    /// <summary>403: a change through the API, signed in by the cookie, that a browser says another origin's page sent (ADR-157).</summary>
    public const string CrossSiteRequest = "cross_site_request";
    public const string OrganizationSuspendedMessage = "An operator suspended this organization: it can neither run agents nor buy until it is reactivated.";

    /// <summary>The code for a status when a handler did not choose a more specific one.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => ValidationFailed,
        429 => RateLimited,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => BadRequest,
    };
}
