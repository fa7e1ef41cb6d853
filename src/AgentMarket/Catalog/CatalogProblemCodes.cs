namespace AgentMarket.Catalog;

/// <summary>
/// Stable problem codes of the catalog and the seller side, alongside the platform's <c>ProblemCodes</c>. Clients
/// switch on these, so they never change once shipped.
/// </summary>
public static class CatalogProblemCodes
{
    /// <summary>400: the file has an image's signature but its header (the dimensions) cannot be read.</summary>
    public const string ImageInvalid = "image_invalid";

    /// <summary>400: the image declares more pixels than the marketplace accepts (ADR-162).</summary>
    public const string ImageTooLarge = "image_too_large";

    /// <summary>403: the organization stores as many images, or as many bytes of them, as it may (ADR-162).</summary>
    public const string ImageLimitReached = "image_limit_reached";

    /// <summary>
    /// 409: a listing (live or in an edit waiting for review) or the provider's avatar shows the image; deleting it would
    /// blank them (ADR-171). <c>GET /api/catalog-images/</c> says what uses each image.
    /// </summary>
    public const string ImageInUse = "image_in_use";

    /// <summary>403: only an approved provider can create and publish agents.</summary>
    public const string ProviderRequired = "provider_required";

    /// <summary>409: an archived agent is read-only.</summary>
    public const string AgentArchived = "agent_archived";

    /// <summary>422: the flow is not runnable here; the problem carries the compatibility <c>report</c>.</summary>
    public const string FlowNotRunnable = "flow_not_runnable";

    /// <summary>503: the flow engine's validator is not available, so nothing is imported unchecked.</summary>
    public const string ValidationUnavailable = "validation_unavailable";

    /// <summary>409: a version must be newer than every existing version of the agent.</summary>
    public const string VersionNotNewer = "version_not_newer";

    /// <summary>
    /// 409: the imported flow lacks fields buyers set through declared configurable fields; the problem's <c>fields</c>
    /// lists their keys. Importing with <c>drop_missing_fields=true</c> removes those declarations instead.
    /// </summary>
    public const string DeclaredFieldsMissing = "declared_fields_missing";

    /// <summary>
    /// 409: replacing the configurable fields would stop values subscribers saved from applying (a field removed, retyped,
    /// or narrowed so their value no longer fits); the problem's <c>subscriptions</c> counts them and <c>fields</c> lists
    /// the keys. Replacing with <c>drop_subscriber_settings=true</c> applies it anyway (ADR-158).
    /// </summary>
    public const string SubscriberSettingsAffected = "subscriber_settings_affected";

    /// <summary>409: publishing needs an imported version.</summary>
    public const string NoVersion = "no_version";

    /// <summary>409: the agent already has a listing; edit it instead.</summary>
    public const string AlreadyPublished = "already_published";

    /// <summary>409: another listing uses this slug.</summary>
    public const string SlugTaken = "slug_taken";

    /// <summary>409: the listing's state does not allow this action (for example pausing a listing under review).</summary>
    public const string ListingStateConflict = "listing_state_conflict";

    /// <summary>
    /// 409: the listing changed (its provider edited it or served another version) since the operator read the
    /// <c>revision</c> the decision names; read it again and decide on what it is now (ADR-158).
    /// </summary>
    public const string ListingChanged = "listing_changed";

    /// <summary>403: an operator took the listing down; its provider cannot change it until an operator restores it.</summary>
    public const string ListingTakenDown = "listing_taken_down";

    /// <summary>403: only an organization that completed a run of the agent may review it.</summary>
    public const string ReviewRequiresRun = "review_requires_run";

    /// <summary>403: providers do not review their own listings.</summary>
    public const string OwnListing = "own_listing";

    /// <summary>409: one review per organization per listing; edit the existing one.</summary>
    public const string AlreadyReviewed = "already_reviewed";

    /// <summary>409: this user already reported this review.</summary>
    public const string AlreadyReported = "already_reported";

    /// <summary>409: only a live listing (active, public, its organization not suspended) can be featured.</summary>
    public const string ListingNotPublished = "listing_not_published";

    /// <summary>409: the review is already hidden.</summary>
    public const string ReviewAlreadyHidden = "review_already_hidden";

    /// <summary>409: the review has no open reports to dismiss.</summary>
    public const string NoOpenReports = "no_open_reports";
}
