using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace AgentMarket.Platform.Errors;

static class ProblemDetailsSetup
{
    public static void AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = AddCodeAndTrace);
        services.AddExceptionHandler<ServerErrorLog>(); // first: logs with the reference, answers nothing
        services.Configure<ExceptionHandlerOptions>(o => o.SuppressDiagnosticsCallback = _ => true); // ServerErrorLog logs
        services.AddExceptionHandler<PageExceptionHandler>(); // then pages answer HTML whatever failed
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures (malformed JSON, wrong types) throw, so the handler below can say which one it was.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    }

    static string SnakeCasePath(string path) =>
        string.Join('.', path.Split('.').Select(segment => JsonNamingPolicy.SnakeCaseLower.ConvertName(segment)));

    static void AddCodeAndTrace(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        // A problem the application wrote with its own code (a model endpoint's failure, 502) says what it means to.
        var deliberate = problem.Extensions.ContainsKey("code") && context.Exception is null;
        if (!problem.Extensions.ContainsKey("code"))
        {
            problem.Extensions["code"] = problem is HttpValidationProblemDetails ? ProblemCodes.ValidationFailed : ProblemCodes.ForStatus(status);
        }
        if (problem is HttpValidationProblemDetails validation)
        {
            // The validator reports CLR property names; clients sent and read snake_case.
            var errors = validation.Errors.ToDictionary(e => SnakeCasePath(e.Key), e => e.Value, StringComparer.Ordinal);
            validation.Errors.Clear();
            foreach (var (key, messages) in errors)
            {
                validation.Errors[key] = messages;
            }
        }
        if (status == StatusCodes.Status403Forbidden && context.HttpContext.Features.Get<Auth.CredentialRefused>() is { Code: { } refusedCode } refused)
        {
            problem.Extensions["code"] = refusedCode;
            problem.Detail = refused.Message;
        }
        if (status == StatusCodes.Status401Unauthorized && problem.Detail is null)
        {
            // Say which: a revoked or mistyped key is the usual reason, and the handlers' messages name no secret. A
            // sign-in cookie the handler could not read (expired, or sealed with a key this server no longer has) leaves
            // no reason of its own.
            problem.Detail = context.HttpContext.Features.Get<Auth.CredentialRefused>()?.Message
                ?? (context.HttpContext.Request.Cookies.ContainsKey(Auth.AuthSchemes.SessionCookie)
                    ? "Your session has expired or could not be read. Sign in again."
                    : "Send an agent key (Authorization: Bearer am_live_… or x-api-key), a personal access token, or sign in.");
        }
        problem.Extensions["trace_id"] = context.HttpContext.TraceIdentifier;
        if (status >= 500 && !deliberate)
        {
            // Never leak exception text to clients; the trace id finds the log entry.
            problem.Detail = "An unexpected error occurred.";
        }
    }
}

/// <summary>
/// Turns request-shape failures the framework throws (unreadable JSON, wrong types, oversized bodies) into 4xx problems
/// with a code, instead of the 500 an unhandled exception would be.
/// </summary>
sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }
        var (code, detail) = bad switch
        {
            { StatusCode: StatusCodes.Status413PayloadTooLarge } => (ProblemCodes.PayloadTooLarge, "The request body is too large."),
            { StatusCode: StatusCodes.Status415UnsupportedMediaType } => (ProblemCodes.UnsupportedMediaType, "Send the body as application/json."),
            { InnerException: JsonException json } => (ProblemCodes.MalformedJson, DescribeJsonError(json)),
            _ when bad.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase) => (ProblemCodes.MalformedJson, "The request body is not valid JSON."),
            _ => (ProblemCodes.BadRequest, SafeMessage(bad)),
        };
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = bad.StatusCode, Detail = detail, Extensions = { ["code"] = code } },
        });
    }

    // The JSON reader's message names the path and position, which helps the caller and reveals nothing of ours.
    static string DescribeJsonError(JsonException json) =>
        json.Path is { Length: > 0 } path ? $"The request body is not valid JSON or has a wrong type at '{path}'." : "The request body is not valid JSON.";

    static string SafeMessage(BadHttpRequestException bad) =>
        bad.Message.StartsWith("Failed to bind parameter", StringComparison.Ordinal) || bad.Message.StartsWith("Required parameter", StringComparison.Ordinal)
            ? bad.Message
            : "The request is malformed.";
}
