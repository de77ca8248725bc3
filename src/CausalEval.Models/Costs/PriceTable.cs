using System.Text.Json.Serialization;
using CausalEval.Core;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Running;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Costs;

/// <summary>
/// The price of one model id, or of every id starting with a prefix (<c>openai/gpt-4o-mini*</c>): US dollars per million
/// input and output tokens, per million input tokens read from the provider's prompt cache
/// (<paramref name="CachedInputPerMillion"/>; null: the input price) and per million input tokens written to it
/// (<paramref name="CacheWriteInputPerMillion"/>; null: <see cref="DefaultCacheWriteMultiplier"/> × the input price); through the
/// provider's Batch API every rate is multiplied by <paramref name="BatchMultiplier"/> (null: <see cref="DefaultBatchMultiplier"/>).
/// </summary>
public sealed record ModelPrice(string Pattern, double InputPerMillion, double OutputPerMillion, double? CachedInputPerMillion = null,
    double? CacheWriteInputPerMillion = null, double? BatchMultiplier = null)
{
    /// <summary>The Batch API's rates as a share of the standard ones when the table gives none: OpenAI and Azure OpenAI bill batches at half price.</summary>
    public const double DefaultBatchMultiplier = 0.5;

    /// <summary>This price as billed through the Batch API: every rate times the batch multiplier.</summary>
    public ModelPrice Batched()
    {
        var m = BatchMultiplier ?? DefaultBatchMultiplier;
        return new ModelPrice(Pattern, InputPerMillion * m, OutputPerMillion * m, CachedInputPerMillion * m, CacheWritePerMillion * m, 1);
    }

    /// <summary>
    /// Cache writes without a price of their own cost this many times the input price: Anthropic bills its 5-minute prompt
    /// cache writes at 1.25× (the harness never asks for the 1-hour cache, billed at 2×). Only providers that report cache
    /// writes (Anthropic) have any.
    /// </summary>
    public const double DefaultCacheWriteMultiplier = 1.25;

    /// <summary>US dollars per million input tokens written to the prompt cache (the default multiplier resolved).</summary>
    public double CacheWritePerMillion => CacheWriteInputPerMillion ?? InputPerMillion * DefaultCacheWriteMultiplier;

    /// <summary>The cost in US dollars of <paramref name="usage"/> (never negative).</summary>
    public double CostUsd(Usage usage)
    {
        // Reads and writes are parts of the input (checked where usage arrives); clamped here so that no count, however
        // wrong, prices more tokens than the input had or fewer than zero.
        var input = Math.Max(0, usage.InputTokens);
        var read = Math.Clamp(usage.PromptCacheTokens, 0, input);
        var written = Math.Clamp(usage.PromptCacheWriteTokens, 0, input - read);
        var fresh = input - read - written;
        return Math.Max(0, (fresh * InputPerMillion + read * (CachedInputPerMillion ?? InputPerMillion) + written * CacheWritePerMillion
            + Math.Max(0, usage.OutputTokens) * OutputPerMillion) / 1_000_000);
    }
}

/// <summary>
/// Prices per model id (DESIGN §2.4 <c>cost</c>): the committed defaults in <c>prompts/prices.json</c>, overridden by
/// <c>--prices FILE</c> and a plan's per-model <c>price</c>. A model id is looked up without its settings
/// (<c>?temperature=…</c>): first exactly, then by the longest matching <c>prefix*</c> pattern. Billed tokens are priced;
/// tokens of cached answers cost nothing. Models without a price cost 0 (and a run with <c>--max-cost</c> refuses them).
/// </summary>
public sealed class PriceTable : ICostModel
{
    /// <summary>The default price file's name in the prompt folder.</summary>
    public const string FileName = "prices.json";

    private readonly Dictionary<string, ModelPrice> _exact = new(StringComparer.Ordinal);
    private readonly List<ModelPrice> _prefixes = [];

    /// <summary>A table of <paramref name="prices"/> read from <paramref name="source"/> (named in messages).</summary>
    public PriceTable(IEnumerable<ModelPrice> prices, string source)
    {
        Source = source;
        foreach (var price in prices)
        {
            if (price.Pattern.EndsWith('*'))
            {
                _prefixes.RemoveAll(p => p.Pattern == price.Pattern);
                _prefixes.Add(price);
            }
            else
            {
                _exact[price.Pattern] = price;
            }
        }
        _prefixes.Sort((a, b) => b.Pattern.Length.CompareTo(a.Pattern.Length));
    }

    /// <summary>No prices: every model costs 0.</summary>
    public static PriceTable Empty { get; } = new([], "no price table");

    /// <summary>Where the prices came from (file names), for messages.</summary>
    public string Source { get; }

    /// <summary>Every price, exact ids first, then the <c>prefix*</c> patterns.</summary>
    public IEnumerable<ModelPrice> All => _exact.Values.Concat(_prefixes);

    /// <summary>The model id without its settings (<c>?temperature=…</c>), as prices are keyed.</summary>
    public static string WithoutSettings(string modelId) => modelId.IndexOf('?') is >= 0 and var q ? modelId[..q] : modelId;

    /// <summary>The price of a model id: exact, else the longest matching <c>prefix*</c> pattern; null when none.</summary>
    public ModelPrice? Find(string modelId)
    {
        var id = WithoutSettings(modelId);
        if (_exact.TryGetValue(id, out var price))
        {
            return price;
        }
        return _prefixes.FirstOrDefault(p => id.StartsWith(p.Pattern[..^1], StringComparison.Ordinal));
    }

    /// <summary>This table with the prices whose pattern <paramref name="batched"/> picks at their Batch API rates (<see cref="ModelPrice.Batched"/>).</summary>
    public PriceTable Batched(Func<string, bool> batched) =>
        new(All.Select(p => batched(p.Pattern) ? p.Batched() : p), Source + " (batch rates)");

    /// <summary>The cost in US dollars of a model's usage (0 without a price).</summary>
    public double CostUsd(string modelId, Usage usage) => Find(modelId)?.CostUsd(usage) ?? 0;

    /// <summary>This table with <paramref name="overrides"/> taking precedence.</summary>
    public PriceTable With(IEnumerable<ModelPrice> overrides, string source)
    {
        var list = overrides.ToList();
        return list.Count == 0 ? this : new PriceTable(All.Concat(list), Source == Empty.Source ? source : $"{Source} + {source}");
    }

    /// <summary>The committed default table next to the prompt templates (<c>prompts/prices.json</c>).</summary>
    public static PriceTable Default(string promptsRoot)
    {
        var path = Path.Combine(promptsRoot, FileName);
        return File.Exists(path) ? Load(path) : Empty;
    }

    /// <summary>
    /// Reads a price file: <c>{"models": {"openai/gpt-4o": {"input": 2.5, "output": 10, "cached_input": 1.25}, "ollama/*": {"input": 0, "output": 0}}}</c>
    /// (US dollars per million tokens; optional: <c>cached_input</c> for input read from the provider's prompt cache,
    /// <c>cache_write</c> for input written to it, <c>batch</c> for the Batch API's rates as a share of these, default 0.5;
    /// other top-level fields are notes). Problems are bad input naming the
    /// file and field.
    /// </summary>
    public static PriceTable Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new InputException(path, "$", "price file not found");
        }
        var file = JsonInput.Load(path, ModelsJsonContext.Default.PriceFile);
        var prices = new List<ModelPrice>();
        foreach (var (model, entry) in file.Models)
        {
            var at = $"models.{model}";
            var price = entry ?? throw new InputException(path, at, "required field is missing");
            prices.Add(new ModelPrice(model, NonNegative(price.Input, path, $"{at}.input"), NonNegative(price.Output, path, $"{at}.output"),
                price.CachedInput is { } cached ? NonNegative(cached, path, $"{at}.cached_input") : null,
                price.CacheWrite is { } written ? NonNegative(written, path, $"{at}.cache_write") : null,
                price.Batch is { } batch ? NonNegative(batch, path, $"{at}.batch") : null));
        }
        return new PriceTable(prices, path);
    }

    private static double NonNegative(double value, string path, string field)
        => value >= 0 ? value : throw new InputException(path, field, "must be at least 0");
}

/// <summary>A price file as read; other top-level fields are notes (skipped), a model's entry allows only its five fields.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
internal sealed record PriceFile(Dictionary<string, PriceFile.Entry?> Models)
{
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
    internal sealed record Entry(double Input, double Output, double? CachedInput = null, double? CacheWrite = null, double? Batch = null);
}
