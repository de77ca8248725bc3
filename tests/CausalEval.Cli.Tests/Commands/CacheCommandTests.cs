using CausalEval.Models;
using CausalEval.Models.Middleware;

namespace CausalEval.Cli.Tests.Commands;

public class CacheCommandTests
{
    [Fact]
    public async Task Stats_lists_answers_per_model_and_clear_removes_them()
    {
        using var dir = new TempDir();
        var cache = Path.Combine(dir.Path, "cache");
        var store = new ResponseCacheStore(cache);
        for (var i = 0; i < 3; i++)
        {
            store.Put([(byte)i, .. new byte[31]], i < 2 ? "openai/gpt-4o-mini" : "azure/gpt-4o", new CachedAnswer("ACTION: do(A = 5)", "stop", null, 100, 10),
                new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
        }

        var stats = await Cli.RunAsync("cache", "stats", "--cache-dir", cache);

        Assert.Equal(0, stats.ExitCode);
        Assert.Contains("3 answers", stats.Out);
        Assert.Contains("| openai/gpt-4o-mini | 2 | 200 | 20 | 2025-06-01T12:00:00Z | 2025-06-01T12:00:00Z |", stats.Out);
        Assert.Contains("| azure/gpt-4o | 1 | 100 | 10 |", stats.Out);

        var one = await Cli.RunAsync("cache", "clear", "--cache-dir", cache, "--model", "azure/gpt-4o");
        Assert.Contains("removed 1 cached answers", one.Out);
        var all = await Cli.RunAsync("cache", "clear", "--cache-dir", cache);
        Assert.Contains("removed 2 cached answers", all.Out);
        Assert.Empty(store.Stats());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Stats_of_a_missing_cache_says_so_and_creates_nothing()
    {
        using var dir = new TempDir();
        var cache = Path.Combine(dir.Path, "none");

        var (code, stdout, _) = await Cli.RunAsync("cache", "stats", "--cache-dir", cache);

        Assert.Equal(0, code);
        Assert.Contains("no response cache in", stdout);
        Assert.False(Directory.Exists(cache));
    }
}
