namespace AgentMarket.Identity.Sso;

/// <summary>
/// Why a single sign-on attempt was refused. The reason travels to the refusal page as a code from this list (never as
/// free text from the identity provider), and the page shows the matching message.
/// </summary>
public static class SsoRefusal
{
    public const string ProviderUnavailable = "provider_unavailable";
    public const string Misconfigured = "misconfigured";
    public const string Unreachable = "idp_unreachable";
    public const string Blocked = "idp_blocked";
    public const string Denied = "access_denied";
    public const string TokenRequestFailed = "token_request_failed";
    public const string InvalidSignature = "invalid_signature";
    public const string WrongIssuer = "wrong_issuer";
    public const string WrongAudience = "wrong_audience";
    public const string WrongNonce = "wrong_nonce";
    public const string Expired = "expired_token";
    public const string InvalidToken = "invalid_token";
    public const string EmailMissing = "email_missing";
    public const string EmailUnverified = "email_unverified";
    public const string DomainNotAllowed = "email_domain_not_allowed";
    public const string OperatorAccount = "operator_account";
    public const string EmailHeld = "email_held";
    public const string Failed = "failed";

    public const string PagePath = "/signin/sso/refused";

    public static string PageFor(string reason) => $"{PagePath}?reason={Uri.EscapeDataString(reason)}";

    public static string Message(string? reason) => reason switch
    {
        ProviderUnavailable => "This sign-in option is turned off or no longer exists. Sign in with your email and password, or ask an operator.",
        Misconfigured => "This identity provider is not set up correctly (its discovery document does not match the configured issuer). Ask an operator to check it.",
        Unreachable => "The identity provider could not be reached. Try again in a moment.",
        Blocked => "This server's outbound network policy does not allow the identity provider's address. Ask an operator to allow it (Flows:OutboundAllowList).",
        Denied => "The identity provider did not sign you in.",
        TokenRequestFailed => "The identity provider refused to complete the sign-in. Try again, or ask an operator to check the client settings.",
        InvalidSignature => "The identity provider's answer was not signed with its keys, so it was refused and you are not signed in.",
        WrongIssuer => "The identity provider's answer came from an unexpected issuer, so it was refused and you are not signed in.",
        WrongAudience => "The identity provider's answer was meant for another application, so it was refused and you are not signed in.",
        WrongNonce => "The identity provider's answer does not belong to this sign-in attempt (nonce mismatch), so it was refused and you are not signed in.",
        Expired => "The identity provider's answer has expired. Sign in again.",
        InvalidToken => "The identity provider's answer could not be verified, so you are not signed in.",
        EmailMissing => "The identity provider did not share your email address, which this marketplace needs to sign you in.",
        EmailUnverified => "Your email address is not verified at the identity provider. Verify it there, then sign in again.",
        DomainNotAllowed => "Your email address's domain may not sign in with this identity provider.",
        EmailHeld => "An account moved off this email address recently, and the address stays reserved for it for a few days. Try again later, or ask an operator.",
        OperatorAccount => "Operator accounts sign in with their email and password, not through an identity provider.",
        _ => "Signing in through the identity provider failed. Try again.",
    };
}

/// <summary>
/// Ends a single sign-on attempt with a <see cref="SsoRefusal"/> reason. Thrown inside the OAuth handler because the
/// framework's remote-authentication pipeline carries failures as exceptions to its <c>OnRemoteFailure</c> event,
/// which turns them into a redirect to the refusal page before anything is signed in.
/// </summary>
public sealed class SsoRefusedException(string reason, string? detail = null) : Exception(detail ?? reason)
{
    public string Reason { get; } = reason;
}
