using System.Text.Json.Nodes;
using AgentMarket.Gateway;

namespace AgentMarket.Doors.OpenAi;

/// <summary>An error in OpenAI's shape, <c>{"error": {message, type, param, code}}</c>, with its HTTP status.</summary>
sealed record OpenAiError(int Status, string Type, string? Code, string Message, string? Param = null)
{
    public const string InvalidRequest = "invalid_request_error";

    public static readonly OpenAiError NoKey = new(StatusCodes.Status401Unauthorized, InvalidRequest, "invalid_api_key",
        "You didn't provide an API key. Send your agent key (am_live_…) or organization token (am_pat_…) as 'Authorization: Bearer <key>'.");

    public static readonly OpenAiError BadKey = new(StatusCodes.Status401Unauthorized, InvalidRequest, "invalid_api_key",
        "Incorrect API key provided: it is unknown, revoked or expired.");

    public static readonly OpenAiError PublishableKey = new(StatusCodes.Status401Unauthorized, InvalidRequest, "invalid_api_key",
        "Publishable keys (am_pub_…) work only in the chat widget; use a secret key (am_live_…).");

    public static readonly OpenAiError UnknownOrganization = new(StatusCodes.Status404NotFound, InvalidRequest, "organization_not_found",
        "The organization was not found.");

    public static readonly OpenAiError MalformedBody = new(StatusCodes.Status400BadRequest, InvalidRequest, null,
        "We could not parse the JSON body of your request.");

    public static readonly OpenAiError OrganizationSuspended = new(StatusCodes.Status403Forbidden, InvalidRequest, Platform.Errors.ProblemCodes.OrganizationSuspended,
        Platform.Errors.ProblemCodes.OrganizationSuspendedMessage);

    public static OpenAiError For(DoorRefusal refusal) => refusal switch
    {
        DoorRefusal.NoCredentials => NoKey,
        DoorRefusal.OrganizationSuspended => OrganizationSuspended,
        DoorRefusal.InvalidCredentials => BadKey,
        DoorRefusal.PublishableKey => PublishableKey,
        _ => UnknownOrganization,
    };

    public static OpenAiError ModelNotFound(string model) => new(StatusCodes.Status404NotFound, InvalidRequest, "model_not_found",
        $"The model '{model}' does not exist or you do not have access to it.", "model");

    /// <summary>A gateway failure as OpenAI reports the same situation: 402 as <c>insufficient_quota</c>, 429 as <c>rate_limit_exceeded</c>.</summary>
    public static OpenAiError For(GatewayFailure failure) => failure.Status switch
    {
        StatusCodes.Status402PaymentRequired => new(failure.Status, "insufficient_quota", "insufficient_quota", failure.Message),
        StatusCodes.Status429TooManyRequests => new(failure.Status, "requests", "rate_limit_exceeded", failure.Message),
        StatusCodes.Status404NotFound => new(failure.Status, InvalidRequest, "model_not_found", failure.Message, "model"),
        >= 500 => new(failure.Status, "server_error", failure.Code, failure.Message),
        _ => new(failure.Status, InvalidRequest, failure.Code, failure.Message),
    };

    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject { ["message"] = Message, ["type"] = Type, ["param"] = Param, ["code"] = Code },
    };

    /// <summary>
    /// The response. OpenAI's SDKs retry 409s and 5xx by themselves; <c>x-should-retry</c> (which they honour) stops
    /// pointless retries of refusals that cannot change on their own, and <c>Retry-After</c> paces a retry after 429.
    /// </summary>
    public IResult ToResult(HttpContext http, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } wait)
        {
            Platform.Api.RetryAfter.Set(http.Response, wait);
        }
        if (Status is not (StatusCodes.Status429TooManyRequests or >= 500))
        {
            http.Response.Headers["x-should-retry"] = "false";
        }
        if (Status == StatusCodes.Status401Unauthorized)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
        }
        return TypedResults.Json(ToJson(), statusCode: Status);
    }
}
