namespace AgentMarket.Bench;

/// <summary>The Langflow exports in the shared folder next to the repository (<c>../shared/examples/langflow</c>).</summary>
static class LangflowExamples
{
    /// <summary>The path of the export named <paramref name="fileName"/>.</summary>
    public static string PathOf(string fileName)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AgentMarket.slnx")))
            {
                return Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "examples", "langflow", fileName));
            }
        }
        throw new InvalidOperationException("AgentMarket.slnx not found above " + AppContext.BaseDirectory);
    }
}
