using System.Net;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Ui;
using Microsoft.AspNetCore.Diagnostics;

namespace AgentMarket.Platform.Errors;

/// <summary>
/// A page that fails answers a page, not the API's problem JSON: a short static one, which does not depend on the layout
/// and services that may be what failed, with the trace id that finds the log entry. A malformed request to a page (a
/// body too large) keeps its 4xx status; a body too large for a page that takes files names that page's limit and links
/// back to the page, since the form never saw the file and cannot say so itself.
/// </summary>
sealed class PageExceptionHandler(UploadLimits uploads) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (AuthSetup.IsApiRequest(httpContext.Request) || httpContext.Response.HasStarted)
        {
            return false;
        }
        var status = exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        // The exception handler clears the request's endpoint before calling handlers; its feature keeps the one that refused.
        var upload = status == StatusCodes.Status413PayloadTooLarge
            ? uploads.Of(httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint)
            : null;
        var (title, message) = status switch
        {
            StatusCodes.Status413PayloadTooLarge when upload is not null => ("That is too large",
                $"What you sent is larger than this form accepts. <a href=\"{WebUtility.HtmlEncode(SamePage(httpContext.Request))}\" data-back-to-form>Choose a smaller file</a>: {upload.Files} up to {upload.Size}."),
            StatusCodes.Status413PayloadTooLarge => ("That is too large", "What you sent is larger than this form accepts. Go back and choose a smaller file."),
            < 500 => ("That did not go through", "The request could not be read. Go back, reload the page and try again."),
            _ => ("Something went wrong", $"Please try again in a moment. If it keeps happening, {TellTheOperator(httpContext)} this reference."),
        };
        httpContext.Response.StatusCode = status;
        httpContext.Response.ContentType = "text/html; charset=utf-8";
        await httpContext.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>{title}</title><link rel="stylesheet" href="/css/site.css" /></head>
            <body><main class="container"><h1>{title}</h1><p>{message}</p>
            <p class="muted">Reference: <code>{WebUtility.HtmlEncode(httpContext.TraceIdentifier)}</code></p>
            <p><a href="/">Back to the marketplace</a></p></main></body></html>
            """, cancellationToken);
        return true;
    }

    /// <summary>
    /// Who to tell: the operator's support address when one is set (the branding options are in memory, not the services
    /// that may have failed).
    /// </summary>
    static string TellTheOperator(HttpContext httpContext) =>
        httpContext.RequestServices.GetService<Microsoft.Extensions.Options.IOptionsMonitor<Ui.BrandingOptions>>()?.CurrentValue.SupportEmail is { } support
            ? $"write to <a href=\"mailto:{WebUtility.HtmlEncode(support)}\" data-support-email>{WebUtility.HtmlEncode(support)}</a> with"
            : "tell the operator";

    /// <summary>The refused page again, as a GET of the same address (its query names what the form was for).</summary>
    static string SamePage(HttpRequest request) =>
        request.PathBase.ToUriComponent() + request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
}
