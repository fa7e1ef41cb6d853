using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Configuration;
using AgentMarket.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Agents;

public sealed record CreateAgentRequest(
    [property: Required, MinLength(1), MaxLength(120)] string Name,
    [property: MaxLength(2000)] string? Description,
    [property: Required, MaxLength(100)] string Category);
/// <param name="KnowledgeBase">The organization's knowledge base every run reads; "" detaches it, null leaves it.</param>
/// <param name="ReportsUsage">
/// True when the agent runs on the provider's own runtime, which reports each run's usage (<c>POST /api/runtime/usage/</c>,
/// refused for the agent while false); buyers see it. Null leaves it.
/// </param>
/// <param name="BuyerModelEndpoints">False keeps the flow's prompts from endpoints of buyers' own (bring your own model); null leaves it.</param>
public sealed record UpdateAgentRequest(
    [property: MaxLength(120)] string? Name, [property: MaxLength(2000)] string? Description, [property: MaxLength(100)] string? Category,
    [property: MaxLength(36)] string? KnowledgeBase = null, bool? ReportsUsage = null, bool? BuyerModelEndpoints = null);
public sealed record FromTemplateRequest(
    [property: Required, MaxLength(60)] string Template,
    [property: MaxLength(120)] string? Name,
    [property: MaxLength(2000)] string? Description,
    [property: MaxLength(100)] string? Category);
public sealed record TemplateResponse(string Key, string Name, string Description, string Category);
public sealed record RollbackRequest([property: MaxLength(40)] string? Version);
public sealed record ImportResponse(VersionResponse Version, JsonObject Report);
public sealed record ConfigurableFieldDto(
    string? Key, string? NodeId, string? FieldName, string? Label, ConfigurableFieldKind? Kind, string? DefaultValue, List<string>? Options, string? HelpText,
    double? Minimum = null, double? Maximum = null);
/// <param name="DropSubscriberSettings">
/// True confirms a replacement that stops values subscribers saved from applying; without it such a replacement is refused
/// with 409 <c>subscriber_settings_affected</c> (ADR-158).
/// </param>
public sealed record ConfigurableFieldsRequest(List<ConfigurableFieldDto>? Fields, bool? DropSubscriberSettings = null);

/// <summary>
/// The seller API for agents (SPEC §5, §10 <c>/api/provider-agents/</c>): CRUD, templates, flow validation and import,
/// versions and rollback, configurable fields, stats. Routes name an agent by uuid; the agent is tenant-owned, so
/// another organization's uuid answers 404.
/// </summary>
static class ProviderAgentEndpoints
{
    public static void MapProviderAgents(this WebApplication app)
    {
        var agents = app.MapGroup("/api/provider-agents").WithTags("Provider agents");
        agents.MapGet("/", ListAsync).WithName("ListProviderAgents").RequireOrganization();
        agents.MapPost("/", CreateAsync).WithName("CreateProviderAgent").RequireOrganization(MembershipRole.Manager);
        agents.MapGet("/templates", Templates).WithName("ListFlowTemplates").AllowAnyone();
        agents.MapPost("/from_template", FromTemplateAsync).WithName("CreateProviderAgentFromTemplate").RequireOrganization(MembershipRole.Manager);
        agents.MapGet("/{uuid:guid}", GetAsync).WithName("GetProviderAgent").RequireOrganization();
        agents.MapPatch("/{uuid:guid}", UpdateAsync).WithName("UpdateProviderAgent").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/{uuid:guid}/archive", ArchiveAsync).WithName("ArchiveProviderAgent").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/{uuid:guid}/validate_flow", ValidateFlowAsync).WithName("ValidateFlow").RequireOrganization().WithUploadLimit(Platform.Ui.UploadKind.Flow);
        agents.MapPost("/{uuid:guid}/import_flow", ImportFlowAsync).WithName("ImportFlow").RequireOrganization(MembershipRole.Manager).WithUploadLimit(Platform.Ui.UploadKind.Flow);
        agents.MapGet("/{uuid:guid}/versions", ListVersionsAsync).WithName("ListAgentVersions").RequireOrganization();
        agents.MapGet("/{uuid:guid}/versions/{version_uuid:guid}/flow", DownloadFlowAsync).WithName("DownloadAgentVersionFlow").RequireOrganization();
        agents.MapGet("/{uuid:guid}/versions/{version_uuid:guid}/report", VersionReportAsync).WithName("GetAgentVersionReport").RequireOrganization();
        agents.MapPost("/{uuid:guid}/rollback", RollbackAsync).WithName("RollbackAgent").RequireOrganization(MembershipRole.Manager);
        agents.MapGet("/{uuid:guid}/configurable_fields", ListFieldsAsync).WithName("ListConfigurableFields").RequireOrganization();
        agents.MapPut("/{uuid:guid}/configurable_fields", ReplaceFieldsAsync).WithName("ReplaceConfigurableFields").RequireOrganization(MembershipRole.Manager);
        agents.MapGet("/{uuid:guid}/configurable_fields/candidates", CandidatesAsync).WithName("ListConfigurableFieldCandidates").RequireOrganization();
        agents.MapGet("/{uuid:guid}/stats", StatsAsync).WithName("GetProviderAgentStats").RequireOrganization();
    }

    static async Task<IResult> ListAsync(string? state, int? limit, int? offset, ProviderAgents agents, CancellationToken ct)
    {
        ProviderAgentState? filter = null;
        if (state is not null)
        {
            if (!EnumNames<ProviderAgentState>.TryParse(state, out var parsed))
            {
                return ApiProblem.Invalid("state", "Use active or archived.");
            }
            filter = parsed;
        }
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(agents.Responses(filter), ct));
    }

    static async Task<IResult> CreateAsync(CreateAgentRequest request, ProviderAgents agents, HttpContext http, CancellationToken ct)
    {
        var (agent, failure) = await agents.CreateAsync(request.Name, request.Description, request.Category, ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Created($"/api/provider-agents/{agent!.Id}", await agents.ResponseAsync(agent.Id, ct));
    }

    static Ok<List<TemplateResponse>> Templates() =>
        TypedResults.Ok(FlowTemplates.All.Select(t => new TemplateResponse(t.Key, t.Name, t.Description, t.Category)).ToList());

    static async Task<IResult> FromTemplateAsync(FromTemplateRequest request, TemplateStarter starter, ProviderAgents agents, HttpContext http, CancellationToken ct)
    {
        if (FlowTemplates.Find(request.Template) is not { } template)
        {
            return ApiProblem.Invalid("template", $"Use one of: {string.Join(", ", FlowTemplates.All.Select(t => t.Key))}.");
        }
        var (agent, failure) = await starter.StartAsync(template, request.Name, request.Description, request.Category, ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Created($"/api/provider-agents/{agent!.Id}", await agents.ResponseAsync(agent.Id, ct));
    }

    static async Task<IResult> GetAsync(Guid uuid, ProviderAgents agents, CancellationToken ct) =>
        await agents.ResponseAsync(uuid, ct) is { } agent ? TypedResults.Ok(agent) : ApiProblem.NotFound("agent");

    static async Task<IResult> UpdateAsync(Guid uuid, UpdateAgentRequest request, ProviderAgents agents, HttpContext http, CancellationToken ct)
    {
        var (agent, failure) = await agents.UpdateAsync(uuid, request.Name, request.Description, request.Category, ct, request.KnowledgeBase, request.ReportsUsage, request.BuyerModelEndpoints);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(await agents.ResponseAsync(agent!.Id, ct));
    }

    static async Task<IResult> ArchiveAsync(Guid uuid, ProviderAgents agents, HttpContext http, CancellationToken ct)
    {
        var (agent, failure) = await agents.ArchiveAsync(uuid, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(await agents.ResponseAsync(agent!.Id, ct));
    }

    /// <summary>The compatibility report of the posted export, whatever it contains: this is the answer, not an error.</summary>
    static async Task<IResult> ValidateFlowAsync(Guid uuid, AppDbContext db, AgentVersions versions, IOptionsMonitor<LlmOptions> llm, HttpContext http, CancellationToken ct)
    {
        if (!await db.ProviderAgents.AnyAsync(a => a.Id == uuid, ct))
        {
            return ApiProblem.NotFound("agent");
        }
        var upload = await FlowUpload.ReadAsync(http.Request, ct);
        return upload is null ? MissingFile() : TypedResults.Ok(ReportJson.ForSeller(versions.Validate(upload.Flow), llm.CurrentValue));
    }

    static async Task<IResult> ImportFlowAsync(Guid uuid, AppDbContext db, AgentVersions versions, IOptionsMonitor<LlmOptions> llm, HttpContext http, CancellationToken ct)
    {
        if (!await db.ProviderAgents.AnyAsync(a => a.Id == uuid, ct))
        {
            return ApiProblem.NotFound("agent");
        }
        var upload = await FlowUpload.ReadAsync(http.Request, ct);
        if (upload is null)
        {
            return MissingFile();
        }
        var imported = await versions.ImportAsync(uuid, upload.Flow, upload.FileName, upload.Version, upload.Changelog, ct, upload.DropMissingFields);
        if (imported.Failure is not null)
        {
            return ImportProblem(imported, http);
        }
        var version = imported.Version!;
        return TypedResults.Created(
            $"/api/provider-agents/{uuid}/versions/{version.Id}/report",
            new ImportResponse(
                new VersionResponse(version.Id, version.Version, version.Changelog, true, imported.Report!.FlowName, version.FlowFileName, version.FlowSizeBytes, version.FlowSha256, version.CreatedUtc),
                ReportJson.ForSeller(imported.Report, llm.CurrentValue)));
    }

    static async Task<IResult> ListVersionsAsync(Guid uuid, AgentVersions versions, CancellationToken ct) =>
        await versions.ListAsync(uuid, ct) is { } list ? TypedResults.Ok(list) : ApiProblem.NotFound("agent");

    /// <summary>The export exactly as it was uploaded.</summary>
    static async Task<IResult> DownloadFlowAsync(Guid uuid, Guid version_uuid, AppDbContext db, CancellationToken ct)
    {
        var version = await db.AgentVersions.AsNoTracking().Where(v => v.Id == version_uuid && v.AgentId == uuid)
            .Select(v => new { v.FlowJson, v.FlowFileName, v.Version }).FirstOrDefaultAsync(ct);
        return version is null
            ? ApiProblem.NotFound("version")
            : TypedResults.File(version.FlowJson, "application/json", version.FlowFileName ?? $"flow-{version.Version}.json");
    }

    static async Task<IResult> VersionReportAsync(Guid uuid, Guid version_uuid, AppDbContext db, IOptionsMonitor<LlmOptions> llm, CancellationToken ct)
    {
        var report = await db.AgentVersions.AsNoTracking().Where(v => v.Id == version_uuid && v.AgentId == uuid).Select(v => v.ReportJson).FirstOrDefaultAsync(ct);
        return report is null ? ApiProblem.NotFound("version") : TypedResults.Ok(ReportJson.ForSeller(report, llm.CurrentValue));
    }

    static async Task<IResult> RollbackAsync(Guid uuid, RollbackRequest request, AgentVersions versions, ProviderAgents agents, HttpContext http, CancellationToken ct)
    {
        var (_, failure) = await versions.RollbackAsync(uuid, request.Version, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(await agents.ResponseAsync(uuid, ct));
    }

    static async Task<IResult> ListFieldsAsync(Guid uuid, ConfigurableFields fields, CancellationToken ct) =>
        await fields.ListAsync(uuid, ct) is { } list ? TypedResults.Ok(list) : ApiProblem.NotFound("agent");

    static async Task<IResult> ReplaceFieldsAsync(Guid uuid, ConfigurableFieldsRequest request, ConfigurableFields fields, HttpContext http, CancellationToken ct)
    {
        var inputs = request.Fields?.Select(f => new ConfigurableFieldInput(
            f.Key ?? "", f.NodeId ?? "", f.FieldName ?? "", f.Label ?? "", f.Kind ?? ConfigurableFieldKind.Text, f.DefaultValue, f.Options, f.HelpText, f.Minimum, f.Maximum)).ToList();
        var (saved, failure, problems, atRisk) = await fields.ReplaceAsync(uuid, inputs, ct, request.DropSubscriberSettings == true);
        if (failure is not null)
        {
            return atRisk is null
                ? failure.ToProblem(http)
                : ApiProblem.Create(failure.Status, failure.Code, failure.Message,
                    new Dictionary<string, object?> { ["subscriptions"] = atRisk.Subscriptions, ["fields"] = atRisk.Keys });
        }
        if (problems is { Count: > 0 })
        {
            return TypedResults.ValidationProblem(
                problems.GroupBy(p => p.Field).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray()),
                extensions: new Dictionary<string, object?> { ["code"] = ProblemCodes.ValidationFailed });
        }
        return TypedResults.Ok(saved);
    }

    static async Task<IResult> CandidatesAsync(Guid uuid, ConfigurableFields fields, HttpContext http, CancellationToken ct)
    {
        var (candidates, failure) = await fields.CandidatesAsync(uuid, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(candidates);
    }

    static async Task<IResult> StatsAsync(Guid uuid, AgentStats stats, CancellationToken ct) =>
        await stats.ForAgentAsync(uuid, ct) is { } result ? TypedResults.Ok(result) : ApiProblem.NotFound("agent");

    static IResult ImportProblem(AgentVersions.ImportResult imported, HttpContext http) => imported.Failure!.Code switch
    {
        CatalogProblemCodes.FlowNotRunnable when imported.Report is { } report => ApiProblem.Create(imported.Failure.Status, imported.Failure.Code,
            imported.Failure.Message, new Dictionary<string, object?> { ["report"] = ReportJson.ToElement(report) }),
        CatalogProblemCodes.DeclaredFieldsMissing => ApiProblem.Create(imported.Failure.Status, imported.Failure.Code, imported.Failure.Message,
            new Dictionary<string, object?> { ["fields"] = imported.MissingFields }),
        _ => imported.Failure.ToProblem(http),
    };

    static ProblemHttpResult MissingFile() =>
        ApiProblem.Invalid("file", "Send the flow export as the request body (application/json) or as the 'file' part of a multipart form.");
}
