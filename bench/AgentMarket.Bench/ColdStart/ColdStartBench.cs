using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentMarket.Bench.ColdStart;

/// <summary>
/// Process start → first 200 on the home page, for the built host (Release), on SQLite: a first start on an empty data
/// directory (schema scripts + demo seed) and restarts on an existing one. Run: see docs/benchmarks.md.
/// </summary>
static class ColdStartBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10;
        var host = Path.Combine(AppContext.BaseDirectory, "AgentMarket.dll");
        if (!File.Exists(host))
        {
            Console.Error.WriteLine($"host not found at {host}; build with -c Release first");
            return 2;
        }
        var first = new Measurements("cold start, empty data directory");
        var restart = new Measurements("cold start, existing database");
        await MeasureOnceAsync(host, Path.Combine(Path.GetTempPath(), $"am-bench-{Guid.NewGuid():N}")); // warm the OS file cache
        for (var i = 0; i < iterations; i++)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"am-bench-{Guid.NewGuid():N}");
            first.Add(await MeasureOnceAsync(host, directory));
            restart.Add(await MeasureOnceAsync(host, directory));
            Directory.Delete(directory, recursive: true);
        }
        Console.WriteLine(first.Summary("ms"));
        Console.WriteLine(restart.Summary("ms"));
        return 0;
    }

    static async Task<double> MeasureOnceAsync(string host, string dataDirectory)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [host, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(host)!,
        };
        start.Environment["Storage__DataDirectory"] = dataDirectory;
        start.Environment["Seed__Demo"] = "true";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return clock.Elapsed.TotalMilliseconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                await Task.Delay(5);
            }
            throw new TimeoutException("the host did not answer within 60 s");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
