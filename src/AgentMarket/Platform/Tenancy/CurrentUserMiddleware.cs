using AgentMarket.Platform.Auth;

namespace AgentMarket.Platform.Tenancy;

/// <summary>Copies the authenticated user into <see cref="CurrentTenant"/> so the data layer's user-scoped filters can read it.</summary>
sealed class CurrentUserMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context, CurrentTenant tenant)
    {
        if (context.User.Identity?.IsAuthenticated == true
            && Guid.TryParse(context.User.FindFirst(AppClaims.UserId)?.Value, out var userId))
        {
            tenant.SetUser(userId, context.User.FindFirst(AppClaims.Email)?.Value ?? "");
        }
        return next(context);
    }
}
