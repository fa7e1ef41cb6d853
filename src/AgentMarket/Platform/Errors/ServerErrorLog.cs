using Microsoft.AspNetCore.Diagnostics;

namespace AgentMarket.Platform.Errors;

/// <summary>
/// Logs every failure that reaches the exception handler as an error with its reference, the trace id the error page
/// and the problem's <c>trace_id</c> show, so an operator told a reference finds the entry. First of the handlers, it
/// answers nothing: the ones after it do. Since .NET 10 the middleware logs nothing for an exception a handler answered
/// (an error page, a Stripe outage), and its own entry for the others does not name the reference, so its diagnostics
/// are off and this is the one entry (ProblemDetailsSetup). A request the client got wrong (a 4xx) is not a server error.
/// </summary>
sealed class ServerErrorLog(ILogger<ServerErrorLog> logger) : IExceptionHandler
{
    public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException { StatusCode: < 500 })
        {
            logger.LogError(exception, "{Method} {Path} failed (reference {Reference})", httpContext.Request.Method, httpContext.Request.Path, httpContext.TraceIdentifier);
        }
        return ValueTask.FromResult(false);
    }
}
