using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Validation;
using AgentMarket.Runtime;

namespace AgentMarket.Providers.Agents;

/// <summary>
/// Reads a flow export from a request: the raw body (<c>application/json</c>, the way Langflow's API posts flows), or
/// the <c>file</c> part of a multipart form with optional <c>version</c>, <c>changelog</c> and <c>drop_missing_fields</c>
/// fields (or the same names in the query). The bytes are
/// kept exactly as sent. Multipart uploads are read by hand rather than bound, so API clients need no antiforgery
/// token; browsers cannot forge them either, because the session cookie is SameSite=Lax.
/// </summary>
sealed record FlowUpload(byte[] Flow, string? FileName, string? Version, string? Changelog, bool DropMissingFields)
{
    public static async Task<FlowUpload?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            var file = form.Files.GetFile("file") ?? (form.Files.Count > 0 ? form.Files[0] : null);
            if (file is null)
            {
                return null;
            }
            using var content = new MemoryStream();
            await file.CopyToAsync(content, ct);
            return new FlowUpload(content.ToArray(), file.FileName, Field(form, "version") ?? request.Query["version"], Field(form, "changelog") ?? request.Query["changelog"],
                IsTrue(Field(form, DropMissingFieldsName) ?? request.Query[DropMissingFieldsName]));
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        return new FlowUpload(body.ToArray(), null, request.Query["version"], request.Query["changelog"], IsTrue(request.Query[DropMissingFieldsName]));
    }

    public const string DropMissingFieldsName = "drop_missing_fields";

    static bool IsTrue(string? value) => value is "true" or "1" or "on";

    static string? Field(IFormCollection form, string name) => form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;
}

/// <summary>The engine's report as JSON for responses and problem extensions: its own snake_case shape, verbatim.</summary>
static class ReportJson
{
    public static JsonElement ToElement(CompatibilityReport report) => JsonSerializer.Deserialize<JsonElement>(report.ToJson(indented: false));

    public static JsonElement ToElement(string reportJson) => JsonSerializer.Deserialize<JsonElement>(reportJson);

    /// <summary>
    /// The report as the seller reads it: the engine's, plus <c>replaced_models</c>, the model nodes whose model runs on
    /// the operator's key do not call (ADR-140). That depends on the operator's settings today, so it is added when the
    /// report is read, not stored with the version.
    /// </summary>
    public static JsonObject ForSeller(CompatibilityReport report, LlmOptions llm) => ForSeller(report.ToJson(indented: false), llm);

    /// <inheritdoc cref="ForSeller(CompatibilityReport, LlmOptions)"/>
    /// <remarks>A stored report is kept as it was written (older versions' fields included); only its models are read.</remarks>
    public static JsonObject ForSeller(string reportJson, LlmOptions llm)
    {
        var json = JsonNode.Parse(reportJson)!.AsObject();
        var named = (json["models"] as JsonArray ?? []).OfType<JsonObject>().Select(m => (NodeId: Text(m["node_id"]) ?? "", Model: Text(m["model"])));
        json["replaced_models"] = new JsonArray([.. llm.ReplacedModels(named).Select(r =>
            new JsonObject { ["node_id"] = r.NodeId, ["model"] = r.Model, ["served_model"] = r.ServedModel })]);
        return json;
    }

    static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
