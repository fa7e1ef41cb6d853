using System.Globalization;

namespace AgentMarket.Platform.Api;

/// <summary>The <c>Retry-After</c> header in whole seconds, rounded up so a client never retries too early.</summary>
public static class RetryAfter
{
    public static int Seconds(TimeSpan wait) => (int)Math.Ceiling(wait.TotalSeconds);

    public static void Set(HttpResponse response, TimeSpan wait) => response.Headers.RetryAfter = Seconds(wait).ToString(CultureInfo.InvariantCulture);
}
