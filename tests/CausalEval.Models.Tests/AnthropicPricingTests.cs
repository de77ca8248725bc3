using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core;
using CausalEval.Core.Episodes;
using CausalEval.Core.Results;
using CausalEval.Core.Running;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>
/// Anthropic prompt-cache pricing: the cache writes (<c>cache_creation_input_tokens</c>) and reads
/// (<c>cache_read_input_tokens</c>) the Messages API reports are recorded apart and priced at their own rates (writes at
/// the table's <c>cache_write</c>, else 1.25× the input price; reads at <c>cached_input</c>), and no usage a server reports
/// can lower a cost.
/// </summary>
public class AnthropicPricingTests
{
    private const string Key = "sk-ant-pricing-test-key-0123456789";
    private const string Model = "anthropic/claude-test";

    private static readonly CallPolicy Policy = new()
    {
        Cache = new CacheSettings(Enabled: false),
        Resilience = new ResilienceSettings { Retries = 2, AttemptTimeout = TimeSpan.FromSeconds(60), CallTimeout = TimeSpan.FromMinutes(10) },
    };

    private static async Task<TrialRecord> PlayOne(AnthropicServer server, ModelPrice price) =>
        Assert.Single(await Pipeline.RunAsync(new FakeClock(), Policy with { Prices = new PriceTable([price], "test") }, [Model],
            environment: new Dictionary<string, string> { [ChatProviders.AnthropicKey] = Key, [ChatProviders.AnthropicBaseUrl] = server.Url }));

    private static JsonObject Line(TrialRecord trial)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, trial);
        }
        return JsonNode.Parse(buffer.ToArray())!.AsObject();
    }

    [Fact]
    public async Task Cache_writes_cost_a_quarter_more_than_input_and_reads_a_tenth_recorded_apart_in_usage()
    {
        // The wire's input_tokens is the fresh part only: 100 fresh, 1,000 written to the cache, 400 read from it.
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ACTION: do(A = 5)", input: 100, output: 50, cacheWrite: 1000, cacheRead: 400));

        var trial = await PlayOne(server, new ModelPrice("anthropic/*", 3, 15, CachedInputPerMillion: 0.3));

        Assert.Null(trial.Error);
        Assert.Equal(new Usage(1500, 50, PromptCacheTokens: 400, PromptCacheWriteTokens: 1000), trial.Usage);
        // By hand: 100 × $3 + 400 × $0.30 + 1,000 × $3.75 (1.25 × $3, no cache_write in the table) + 50 × $15, per million.
        Assert.Equal((100 * 3 + 400 * 0.3 + 1000 * 3.75 + 50 * 15) / 1e6, trial.Cost, 12);
        var usage = Line(trial)["usage"]!;
        Assert.Equal(1000, usage["prompt_cache_write_tokens"]!.GetValue<long>());
        Assert.Equal(400, usage["prompt_cache_tokens"]!.GetValue<long>());
        Assert.Equal(1500, usage["input_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_table_cache_write_price_is_used_instead_of_the_default_multiplier()
    {
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ACTION: do(A = 5)", input: 10, output: 0, cacheWrite: 2000));

        var trial = await PlayOne(server, new ModelPrice("anthropic/*", 3, 15, CachedInputPerMillion: 0.3, CacheWriteInputPerMillion: 6));

        Assert.Equal((10 * 3 + 2000 * 6) / 1e6, trial.Cost, 12);
    }

    [Theory]
    [InlineData(100, -50, 0)]
    [InlineData(100, 0, -80)]
    [InlineData(-500, 300, 300)]
    public async Task Negative_cache_counts_are_a_bad_response_never_a_lower_cost(int input, int cacheWrite, int cacheRead)
    {
        using var server = new AnthropicServer((_, _) => AnthropicServer.Message("ACTION: do(A = 5)", input: input, output: 5, cacheWrite: cacheWrite, cacheRead: cacheRead));

        var trial = await PlayOne(server, new ModelPrice("anthropic/*", 3, 15, CachedInputPerMillion: 0.3));

        Assert.True(trial.Error?.Kind == "bad_response", trial.Error?.Message);
        Assert.Contains("impossible usage", trial.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1 + Policy.Resilience.Retries, server.Requests.Count); // retried like a malformed answer
        Assert.Equal(0, trial.Cost);
    }

    [Fact]
    public void Cost_is_additive_never_negative_and_never_falls_when_a_count_grows()
    {
        var price = new ModelPrice("anthropic/*", 3, 15, CachedInputPerMillion: 0.3);
        var random = new Random(12);
        Usage Draw()
        {
            var input = random.Next(0, 5000);
            var read = random.Next(0, input + 1);
            var written = random.Next(0, input - read + 1);
            return new Usage(input, random.Next(0, 500), PromptCacheTokens: read, PromptCacheWriteTokens: written);
        }
        for (var i = 0; i < 500; i++)
        {
            var (a, b) = (Draw(), Draw());
            // A trial's calls add up: pricing the sum is pricing each call.
            Assert.Equal(price.CostUsd(a) + price.CostUsd(b), price.CostUsd(a + b), 12);
            // More of any kind of token never costs less.
            Assert.True(price.CostUsd(a with { InputTokens = a.InputTokens + 7 }) >= price.CostUsd(a));
            Assert.True(price.CostUsd(a with { OutputTokens = a.OutputTokens + 7 }) >= price.CostUsd(a));
            Assert.True(price.CostUsd(a + new Usage(9, 0, PromptCacheWriteTokens: 9)) >= price.CostUsd(a));
            Assert.True(price.CostUsd(a + new Usage(9, 0, PromptCacheTokens: 9)) >= price.CostUsd(a));
        }
        // Counts no server can have are clamped, never priced below zero or above the dearest reading of the input.
        foreach (var hostile in new[]
        {
            new Usage(-100, -5), new Usage(100, 0, PromptCacheTokens: 500), new Usage(100, 0, PromptCacheWriteTokens: 500),
            new Usage(100, 0, PromptCacheTokens: -500, PromptCacheWriteTokens: -500), new Usage(100, 0, PromptCacheTokens: 90, PromptCacheWriteTokens: 90),
        })
        {
            Assert.InRange(price.CostUsd(hostile), 0, Math.Max(0, hostile.InputTokens) * price.CacheWritePerMillion / 1e6 + 1e-15);
        }
    }

    [Fact]
    public void The_committed_Anthropic_prices_bill_cache_writes_at_one_and_a_quarter_and_reads_at_a_tenth_of_input()
    {
        var table = PriceTable.Default(Path.Combine(Repo.Root, "prompts"));
        var anthropic = table.All.Where(p => p.Pattern.StartsWith("anthropic/", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(anthropic);
        foreach (var price in anthropic)
        {
            Assert.True(price.CacheWriteInputPerMillion is { } w && Math.Abs(w - 1.25 * price.InputPerMillion) < 1e-9, price.Pattern);
            Assert.True(price.CachedInputPerMillion is { } r && Math.Abs(r - 0.1 * price.InputPerMillion) < 1e-9, price.Pattern);
        }
        // Without a cache_write entry the documented default multiplier applies.
        Assert.Equal(1.25 * 2.5, new ModelPrice("x", 2.5, 10).CacheWritePerMillion, 12);
    }

    [Fact]
    public void A_price_file_reads_cache_write_and_refuses_a_negative_one_naming_the_field()
    {
        var folder = Directory.CreateTempSubdirectory("causaleval-prices-");
        try
        {
            var path = Path.Combine(folder.FullName, "prices.json");
            File.WriteAllText(path, """{"models": {"anthropic/x": {"input": 3, "output": 15, "cached_input": 0.3, "cache_write": 3.75}}}""");
            Assert.Equal(3.75, PriceTable.Load(path).Find("anthropic/x")!.CacheWriteInputPerMillion);

            File.WriteAllText(path, """{"models": {"anthropic/x": {"input": 3, "output": 15, "cache_write": -1}}}""");
            var error = Assert.Throws<InputException>(() => PriceTable.Load(path));
            Assert.Contains("cache_write", error.Field, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_run_manifest_keeps_the_cache_write_price_and_refuses_a_negative_price_on_resume()
    {
        var policy = Policy with { Prices = new PriceTable([new ModelPrice("anthropic/*", 3, 15, CachedInputPerMillion: 0.3)], "test") };

        var json = policy.ToJson([Model]);
        var back = CallPolicy.FromJson("run.json", json).Prices.Find(Model)!;

        Assert.Equal(3.75, back.CacheWriteInputPerMillion!.Value, 12);
        Assert.Equal(0.3, back.CachedInputPerMillion);
        var edited = json.Replace("\"cache_write_per_million\":3.75", "\"cache_write_per_million\":-3.75", StringComparison.Ordinal);
        Assert.NotEqual(json, edited);
        Assert.Throws<InputException>(() => CallPolicy.FromJson("run.json", edited));
    }
}
