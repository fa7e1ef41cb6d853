using System.Text;

namespace AgentMarket.Flows.Validation;

/// <summary>A compatibility report as plain text, for a seller at a terminal or in an upload page.</summary>
internal static class ReportText
{
    public static string Render(CompatibilityReport report)
    {
        var text = new StringBuilder();
        var name = report.FlowName is { } flowName ? $"\"{flowName}\"" : "The flow";
        var version = report.LastTestedVersion is { } tested ? $" (Langflow {tested})" : "";
        text.Append(name).Append(version).Append(": ").AppendLine(report.Runnable ? "runnable." : "NOT runnable.");
        if (report.StartNodeId is { } start)
        {
            text.Append("Runs start at ").Append(start).AppendLine(".");
        }

        if (!report.Nodes.IsEmpty)
        {
            text.AppendLine().AppendLine("Nodes:");
            var idWidth = report.Nodes.Max(node => node.Id.Length);
            foreach (var node in report.Nodes)
            {
                var status = node.Status switch
                {
                    NodeSupport.Supported => node.RunsViaApi ? "ok         " : "not run    ",
                    NodeSupport.CustomCode => "custom code",
                    _ => "unsupported",
                };
                text.Append("  ").Append(status).Append("  ").Append(node.Id.PadRight(idWidth)).Append("  ").Append(node.DisplayName ?? node.Type);
                if (node.Status != NodeSupport.Supported && node.Note is { } note)
                {
                    text.Append(" — ").Append(note);
                }

                text.AppendLine();
            }
        }

        if (!report.Issues.IsEmpty)
        {
            text.AppendLine().AppendLine("Issues:");
            foreach (var issue in report.Issues)
            {
                var severity = issue.Severity switch
                {
                    IssueSeverity.Error => "error  ",
                    IssueSeverity.Warning => "warning",
                    _ => "info   ",
                };
                text.Append("  ").Append(severity).Append("  [").Append(issue.Code).Append("] ").AppendLine(issue.Message);
            }
        }

        if (!report.Models.IsEmpty)
        {
            text.AppendLine().AppendLine("Models:");
            foreach (var model in report.Models)
            {
                var choice = model.UsesDefaultModel ? "the platform's default model" : $"{model.Model ?? "a connected model"}{(model.Provider is { } provider ? $" ({provider})" : "")}";
                text.Append("  ").Append(model.NodeId).Append(" → ").Append(choice);
                if (!model.Capabilities.IsEmpty)
                {
                    text.Append(", needs ").Append(string.Join(", ", model.Capabilities));
                }

                text.AppendLine();
            }
        }

        if (!report.RequiredCapabilities.IsEmpty)
        {
            text.AppendLine().Append("Needs: ").AppendLine(string.Join(", ", report.RequiredCapabilities));
        }

        if (!report.RequiredSecrets.IsEmpty)
        {
            text.Append("Secrets: ").AppendLine(string.Join(", ", report.RequiredSecrets));
        }

        return text.ToString();
    }
}
