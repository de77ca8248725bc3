using System.CommandLine;
using System.Globalization;
using CausalEval.Models;
using CausalEval.Models.Middleware;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval cache stats | clear</c>: what the response cache holds, and emptying it.</summary>
internal static class CacheCommand
{
    public static Command Create(CliConsole console)
    {
        Option<string?> Dir() => new("--cache-dir") { Description = "Response cache folder (default $XDG_CACHE_HOME/causaleval, else ~/.cache/causaleval)" };
        var statsDir = Dir();
        var stats = new Command("stats", "Answers cached per model id, the tokens they were billed, and the file's size") { statsDir };
        stats.SetAction(parse =>
        {
            var directory = Directory(parse.GetValue(statsDir));
            if (!File.Exists(Path.Combine(directory, ResponseCacheStore.FileName)))
            {
                console.Out.WriteLine($"no response cache in {directory}");
                return CliApp.Ok;
            }
            var store = new ResponseCacheStore(directory);
            var rows = store.Stats();
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"response cache: {store.FilePath} ({store.SizeBytes() / 1048576.0:0.0} MiB, {rows.Sum(r => r.Answers):N0} answers)"));
            if (rows.Count > 0)
            {
                console.Out.WriteLine();
                console.Out.WriteLine("| model | answers | input tokens | output tokens | oldest | newest |");
                console.Out.WriteLine("|---|---:|---:|---:|---|---|");
                foreach (var row in rows)
                {
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {row.Model} | {row.Answers:N0} | {row.InputTokens:N0} | {row.OutputTokens:N0} | {row.Oldest} | {row.Newest} |"));
                }
                console.Out.WriteLine();
                console.Out.WriteLine("Tokens are what the answers were billed when they were first made; a rerun gets them again at no cost.");
            }
            return CliApp.Ok;
        });

        var clearDir = Dir();
        var model = new Option<string?>("--model") { Description = "Only this model id (as `cache stats` lists it)" };
        var clear = new Command("clear", "Remove every cached answer (or one model id's)") { clearDir, model };
        clear.SetAction(parse =>
        {
            var directory = Directory(parse.GetValue(clearDir));
            if (!File.Exists(Path.Combine(directory, ResponseCacheStore.FileName)))
            {
                console.Out.WriteLine($"no response cache in {directory}");
                return CliApp.Ok;
            }
            var removed = new ResponseCacheStore(directory).Clear(parse.GetValue(model));
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed {removed:N0} cached answers from {directory}"));
            return CliApp.Ok;
        });
        return new Command("cache", "The response cache of model answers: stats | clear") { stats, clear };
    }

    private static string Directory(string? given) =>
        given is not null ? Path.GetFullPath(given) : ResponseCacheStore.DefaultDirectory(Environment.GetEnvironmentVariable);
}
