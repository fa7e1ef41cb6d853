namespace AgentMarket.Platform.Ui;

/// <summary>Where links the marketplace emails may point.</summary>
public static class PublicAddress
{
    /// <summary>
    /// <c>Marketplace:PublicUrl</c>; without it, the request's own address in Development only, else null. Taken from
    /// any request, a forged <c>Host</c> header would make the marketplace's own mail server send genuine-looking links
    /// to a site of the sender's choosing.
    /// </summary>
    public static string? ForEmails(IConfiguration configuration, IHostEnvironment environment, string requestBaseUrl) =>
        configuration["Marketplace:PublicUrl"]?.TrimEnd('/') is { Length: > 0 } configured ? configured
            : environment.IsDevelopment() ? requestBaseUrl
            : null;
}
