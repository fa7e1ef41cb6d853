namespace AgentMarket.Widget;

/// <summary>The widget's stable problem codes (beside the gateway's, which widget messages pass on).</summary>
public static class WidgetProblemCodes
{
    /// <summary>403: the request's <c>Origin</c> is missing or not one of the key's allowed origins.</summary>
    public const string OriginNotAllowed = "origin_not_allowed";

    /// <summary>401: not a live publishable key (unknown, revoked, expired, malformed, or a secret key).</summary>
    public const string KeyInvalid = "widget_key_invalid";

    /// <summary>401: the session token is not one of ours, or its key was revoked since.</summary>
    public const string SessionInvalid = "widget_session_invalid";

    /// <summary>401: the session token ran out; the widget opens a new session and sends again.</summary>
    public const string SessionExpired = "widget_session_expired";
}
