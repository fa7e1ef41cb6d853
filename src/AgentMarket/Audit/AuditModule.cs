using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Audit;

/// <summary>The append-only audit log (ADR-080).</summary>
static class AuditModule
{
    public static void AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddSingleton<IInterceptor, AuditProtection>();
    }

    public static void MapAudit(this WebApplication app) => app.MapAuditLog();
}
