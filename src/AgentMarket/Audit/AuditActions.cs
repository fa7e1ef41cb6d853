namespace AgentMarket.Audit;

/// <summary>
/// The audited actions (stable names: they are stored and filtered on). A test performs each one through HTTP and fails
/// when its entry is missing, so a new constant needs a producer and a line in that test.
/// </summary>
public static class AuditActions
{
    public const string SignInSucceeded = "sign_in.succeeded";
    public const string SignInFailed = "sign_in.failed";
    public const string PasswordResetRequested = "password.reset_requested";
    public const string PasswordReset = "password.reset";
    public const string PasswordChanged = "password.changed";
    public const string UserRenamed = "user.renamed";

    /// <summary>A link to move the account to a new address was emailed there; the old and new address are in the entry.</summary>
    public const string EmailChangeRequested = "user.email_change_requested";

    /// <summary>The link was opened: the account's email changed (old and new in the entry) and its other sessions ended.</summary>
    public const string EmailChanged = "user.email_changed";

    /// <summary>
    /// The old address's link undid a change: the account is back on it (the address left and the restored one in the
    /// entry), its password cleared, its sessions and tokens ended.
    /// </summary>
    public const string EmailChangeReverted = "user.email_change_reverted";

    /// <summary>
    /// A single sign-on reached an account by an address it had never proven (typed at sign-up): its password, sessions,
    /// personal access tokens and pending links ended (how many in the entry), so whoever opened it has no way back in.
    /// </summary>
    public const string UnprovenAccountClaimed = "user.unproven_account_claimed";

    /// <summary>An operator ended a user's access: every session ended, every personal access token revoked (how many in the entry).</summary>
    public const string UserAccessEnded = "user.access_ended";

    public const string EmailRetried = "email.retried";
    public const string SessionRevoked = "session.revoked";
    public const string OtherSessionsRevoked = "session.others_revoked";

    public const string PersonalTokenCreated = "personal_token.created";
    public const string PersonalTokenRevoked = "personal_token.revoked";
    public const string AgentKeyCreated = "agent_key.created";
    public const string AgentKeyRotated = "agent_key.rotated";
    public const string AgentKeyRevoked = "agent_key.revoked";

    /// <summary>A publishable key's allowed origins replaced: the sites whose pages may run the widget with it.</summary>
    public const string AgentKeyUpdated = "agent_key.updated";

    /// <summary>Single sign-on providers, platform-wide (no organization). A new client secret shows as <c>"replaced"</c>, never its value.</summary>
    public const string IdentityProviderCreated = "identity_provider.created";
    public const string IdentityProviderUpdated = "identity_provider.updated";
    public const string IdentityProviderDeleted = "identity_provider.deleted";

    /// <summary>An organization's webhook endpoints; the signing secret is never recorded, a rotation only says when the old one stops.</summary>
    public const string WebhookEndpointCreated = "webhook_endpoint.created";
    public const string WebhookEndpointUpdated = "webhook_endpoint.updated";
    public const string WebhookEndpointDeleted = "webhook_endpoint.deleted";
    public const string WebhookEndpointSecretRotated = "webhook_endpoint.secret_rotated";

    /// <summary>A catalog image (listing preview, avatar) deleted by its organization; its type, size and upload time in the entry.</summary>
    public const string CatalogImageDeleted = "catalog_image.deleted";

    /// <summary>The platform disabled the endpoint after its deliveries failed for long enough (no actor).</summary>
    public const string WebhookEndpointDisabled = "webhook_endpoint.disabled";

    public const string OperatorGranted = "operator.granted";
    public const string MemberRoleChanged = "member.role_changed";
    public const string MemberRemoved = "member.removed";
    public const string InvitationCreated = "invitation.created";
    public const string InvitationAccepted = "invitation.accepted";
    public const string InvitationRevoked = "invitation.revoked";

    public const string ProviderApproved = "provider.approved";
    public const string ProviderRejected = "provider.rejected";

    /// <summary>An approved provider proposed an edit of its public profile; it waits for an operator (ADR-170).</summary>
    public const string ProviderProfileChangeSubmitted = "provider.profile_change_submitted";
    public const string ProviderProfileChangeApproved = "provider.profile_change_approved";
    public const string ProviderProfileChangeRejected = "provider.profile_change_rejected";
    public const string ProviderProfileChangeWithdrawn = "provider.profile_change_withdrawn";
    /// <summary>
    /// A provider replaced an agent's configurable fields confirming that values subscribers saved stop applying: the
    /// fields before and after, the keys dropped and how many subscriptions had them (ADR-158).
    /// </summary>
    public const string SubscriberSettingsDropped = "configurable_fields.subscriber_settings_dropped";

    public const string ListingApproved = "listing.approved";
    public const string ListingRejected = "listing.rejected";
    public const string ListingTakenDown = "listing.taken_down";
    public const string ListingRestored = "listing.restored";

    /// <summary>A provider proposed (or amended) an edit of what buyers read of a live listing; it waits for an operator (ADR-163).</summary>
    public const string ListingChangeSubmitted = "listing.change_submitted";
    public const string ListingChangeApproved = "listing.change_approved";
    public const string ListingChangeRejected = "listing.change_rejected";
    public const string ListingChangeWithdrawn = "listing.change_withdrawn";
    public const string ListingFeatured = "listing.featured";
    public const string ListingUnfeatured = "listing.unfeatured";
    public const string ReviewHidden = "review.hidden";
    public const string ReviewReportsDismissed = "review_reports.dismissed";

    public const string OrganizationSuspended = "organization.suspended";
    public const string OrganizationReactivated = "organization.reactivated";
    public const string OrganizationRenamed = "organization.renamed";

    public const string SettingsChanged = "settings.changed";
    public const string CategoryChanged = "category.changed";

    public const string CreditAdjusted = "credits.adjusted";
    public const string PaymentRefunded = "payment.refunded";

    /// <summary>The provider refused for good to return a declined payment's money: an operator returns it by hand.</summary>
    public const string PaymentRefundFailed = "payment.refund_failed";
    public const string PlanChanged = "plan.changed";

    /// <summary>An organization's spend controls changed: the low-balance alert, the session credit cap, or auto top-up's package or threshold while it stays on.</summary>
    public const string SpendLimitChanged = "spend_limit.changed";
    public const string AutoTopUpEnabled = "auto_top_up.enabled";

    /// <summary>Switched off by a member, or by a refused automatic payment (then <c>after</c> carries the reason and the payment).</summary>
    public const string AutoTopUpDisabled = "auto_top_up.disabled";

    /// <summary>The daily cap of automatic purchases stopped one; at most once a day per organization (ADR-149).</summary>
    public const string AutoTopUpPaused = "auto_top_up.paused";

    /// <summary>For the payouts area: record these with <see cref="AuditLog.Record"/> in the same save as the payout row.</summary>
    public const string PayoutCreated = "payout.created";
    public const string PayoutPaid = "payout.paid";
    public const string PayoutReversed = "payout.reversed";
}
