namespace AgentMarket.Tests.Infrastructure;

public static class Repo
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds AgentMarket.slnx.</summary>
    public static string Root { get; } = FindRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AgentMarket.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("AgentMarket.slnx not found above " + AppContext.BaseDirectory);
    }
}
