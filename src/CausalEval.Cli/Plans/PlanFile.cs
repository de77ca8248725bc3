using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Models;
using CausalEval.Prompts.Yaml;
using CausalEval.Models.Costs;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;

namespace CausalEval.Cli.Plans;

/// <summary>
/// What a plan file (<c>causaleval run --plan FILE</c>, YAML) says; null fields were not given. See
/// <c>prompts/plans/*.yaml</c> and the README for the fields. Paths in a plan are relative to the plan's folder.
/// </summary>
internal sealed record PlanFile
{
    public required string Path { get; init; }
    public IReadOnlyList<string>? Tasks { get; init; }
    public IReadOnlyList<string>? Models { get; init; }
    public IReadOnlyList<string>? Prompts { get; init; }
    public string? Names { get; init; }
    public int? Episodes { get; init; }
    public string? Split { get; init; }
    public int? Epochs { get; init; }
    public ulong? Seed { get; init; }
    public int? Concurrency { get; init; }
    public string? Out { get; init; }

    /// <summary>Where <see cref="Out"/> is written (<c>plan.yaml:LINE</c>), so a bad one is reported there.</summary>
    public string? OutOrigin { get; init; }
    public double? MaxCostUsd { get; init; }

    /// <summary><c>batch: true</c>: the plan's openai/ and azure/ models answer through the Batch API (<c>run --batch</c>).</summary>
    public bool Batch { get; init; }
    public bool? CacheEnabled { get; init; }
    public string? CacheDirectory { get; init; }
    public string? PricesFile { get; init; }
    public ResilienceSettings Resilience { get; init; } = new();
    public IReadOnlyDictionary<string, CallLimits> ProviderLimits { get; init; } = new Dictionary<string, CallLimits>();

    /// <summary><c>limits.max_response_bytes</c>: the most bytes a model's response body may have (null: the default).</summary>
    public long? MaxResponseBytes { get; init; }
    public IReadOnlyDictionary<string, CallLimits> ModelLimits { get; init; } = new Dictionary<string, CallLimits>();
    public IReadOnlyList<ModelPrice> ModelPrices { get; init; } = [];
}

/// <summary>
/// Checks a plan's values against what exists (tasks, prompt variants, naming schemes, model ids), so that a wrong value
/// is reported with the plan's file, line and field.
/// </summary>
internal sealed record PlanChecks(
    Func<string, bool> TaskExists,
    Func<string, bool> VariantExists,
    IReadOnlyCollection<string> NamingSchemes,
    Action<string> ResolveModel);

/// <summary>
/// Reads and validates a plan file (the YAML tree of CausalEval.Prompts, with lines, so every problem names <c>file:line</c> and the
/// field, e.g. <c>plan.yaml:14: models[1].settings.temperature: '3' is not a number in [0, 2] (or none)</c>). Unknown
/// fields are errors, not ignored.
/// </summary>
internal static class PlanLoader
{
    private static readonly string[] TopFields =
        ["tasks", "models", "prompts", "names", "episodes", "split", "epochs", "seed", "concurrency", "out", "budget", "cache", "prices", "limits", "batch"];

    private static readonly string[] ModelFields = ["id", "name", "settings", "concurrency", "requests_per_minute", "tokens_per_minute", "price"];

    private static readonly string[] LimitFields = ["retries", "backoff_base", "backoff_max", "attempt_timeout", "call_timeout", "circuit_breaker", "providers", "max_response_bytes"];

    public static PlanFile Load(string path, PlanChecks checks)
    {
        if (!File.Exists(path))
        {
            throw new InputException(path, "--plan", "plan file not found");
        }
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        if (YamlTree.Parse(path, File.ReadAllText(path)) is not YamlMap root)
        {
            throw new InputException($"{path}:1", "$", "a plan is a YAML mapping of fields (tasks, models, prompts, …)");
        }
        var reader = new Reader(path, folder);
        reader.OnlyFields(root, "", TopFields);

        var plan = new PlanFile { Path = full };
        if (reader.Field(root, "batch") is { } batch)
        {
            plan = plan with { Batch = reader.Bool(batch, "batch") };
        }
        if (reader.Field(root, "tasks") is { } tasks)
        {
            var list = reader.Strings(tasks, "tasks");
            foreach (var (task, node) in list)
            {
                if (!checks.TaskExists(task))
                {
                    throw reader.Error(node, "tasks", $"unknown task '{task}' (see `causaleval datasets list`)");
                }
            }
            plan = plan with { Tasks = [.. list.Select(t => t.Value)] };
        }
        if (reader.Field(root, "prompts") is { } prompts)
        {
            var list = reader.Strings(prompts, "prompts");
            foreach (var (variant, node) in list)
            {
                if (!checks.VariantExists(variant))
                {
                    throw reader.Error(node, "prompts", $"unknown prompt variant '{variant}' (see `causaleval prompts list`)");
                }
            }
            plan = plan with { Prompts = [.. list.Select(t => t.Value)] };
        }
        if (reader.Field(root, "names") is { } names)
        {
            if (names is YamlList)
            {
                throw reader.Error(names, "names", "one naming scheme per run: run the plan once per scheme (--names overrides it)");
            }
            var scheme = reader.String(names, "names");
            if (!checks.NamingSchemes.Contains(scheme))
            {
                throw reader.Error(names, "names", $"unknown naming scheme '{scheme}' (known: {string.Join(", ", checks.NamingSchemes)})");
            }
            plan = plan with { Names = scheme };
        }
        if (reader.Field(root, "split") is { } splitNode)
        {
            var split = reader.String(splitNode, "split");
            if (!TaskDefinition.CommittedSplits.Contains(split))
            {
                throw reader.Error(splitNode, "split", $"unknown split '{split}' (expected {string.Join(" or ", TaskDefinition.CommittedSplits)})");
            }
            plan = plan with { Split = split };
        }
        plan = plan with
        {
            Episodes = reader.Field(root, "episodes") is { } episodes ? reader.Int(episodes, "episodes", 1) : null,
            Epochs = reader.Field(root, "epochs") is { } epochs ? reader.Int(epochs, "epochs", 1) : null,
            Seed = reader.Field(root, "seed") is { } seed ? reader.UInt64(seed, "seed") : null,
            Concurrency = reader.Field(root, "concurrency") is { } concurrency ? reader.Int(concurrency, "concurrency", 1) : null,
            Out = reader.Field(root, "out") is { } output ? reader.PathValue(output, "out") : null,
            OutOrigin = reader.Field(root, "out") is { } outNode ? $"{path}:{outNode.Line}" : null,
            PricesFile = reader.Field(root, "prices") is { } prices ? reader.PathValue(prices, "prices") : null,
        };
        if (plan.PricesFile is { } pricesFile && !File.Exists(pricesFile))
        {
            throw reader.Error(reader.Field(root, "prices")!, "prices", $"price file '{pricesFile}' not found");
        }
        if (reader.Field(root, "budget") is { } budget)
        {
            var map = reader.Mapping(budget, "budget");
            reader.OnlyFields(map, "budget.", "max_cost_usd");
            plan = plan with { MaxCostUsd = reader.Field(map, "max_cost_usd") is { } max ? reader.Number(max, "budget.max_cost_usd", 0) : null };
        }
        if (reader.Field(root, "cache") is { } cache)
        {
            var map = reader.Mapping(cache, "cache");
            reader.OnlyFields(map, "cache.", "enabled", "dir");
            plan = plan with
            {
                CacheEnabled = reader.Field(map, "enabled") is { } enabled ? reader.Bool(enabled, "cache.enabled") : null,
                CacheDirectory = reader.Field(map, "dir") is { } dir ? reader.PathValue(dir, "cache.dir") : null,
            };
        }
        if (reader.Field(root, "limits") is { } limits)
        {
            plan = ReadLimits(reader, reader.Mapping(limits, "limits"), plan);
        }
        if (reader.Field(root, "models") is { } models)
        {
            plan = ReadModels(reader, models, plan, checks);
        }
        return plan;
    }

    private static PlanFile ReadLimits(Reader reader, YamlMap limits, PlanFile plan)
    {
        reader.OnlyFields(limits, "limits.", LimitFields);
        var r = new ResilienceSettings();
        TimeSpan Duration(string name, TimeSpan fallback, double minSeconds) =>
            reader.Field(limits, name) is { } node ? reader.Duration(node, $"limits.{name}", minSeconds) : fallback;
        r = r with
        {
            Retries = reader.Field(limits, "retries") is { } retries ? reader.Int(retries, "limits.retries", 0, 100) : r.Retries,
            BackoffBase = Duration("backoff_base", r.BackoffBase, 0.001),
            BackoffMax = Duration("backoff_max", r.BackoffMax, 0.001),
            AttemptTimeout = Duration("attempt_timeout", r.AttemptTimeout, 0.01),
            CallTimeout = Duration("call_timeout", r.CallTimeout, 0.01),
        };
        if (reader.Field(limits, "circuit_breaker") is { } breakerNode)
        {
            var breaker = reader.Mapping(breakerNode, "limits.circuit_breaker");
            reader.OnlyFields(breaker, "limits.circuit_breaker.", "failure_ratio", "minimum_calls", "sampling", "break");
            r = r with
            {
                BreakerFailureRatio = reader.Field(breaker, "failure_ratio") is { } ratio
                    ? reader.Number(ratio, "limits.circuit_breaker.failure_ratio", 0.01, 1) : r.BreakerFailureRatio,
                BreakerMinimumCalls = reader.Field(breaker, "minimum_calls") is { } calls
                    ? reader.Int(calls, "limits.circuit_breaker.minimum_calls", 2) : r.BreakerMinimumCalls,
                // Polly's bounds: at least half a second each.
                BreakerSampling = reader.Field(breaker, "sampling") is { } sampling
                    ? reader.Duration(sampling, "limits.circuit_breaker.sampling", 0.5) : r.BreakerSampling,
                BreakDuration = reader.Field(breaker, "break") is { } pause
                    ? reader.Duration(pause, "limits.circuit_breaker.break", 0.5) : r.BreakDuration,
            };
        }
        if (r.BackoffMax < r.BackoffBase)
        {
            throw reader.Error(reader.Field(limits, "backoff_max") ?? limits, "limits.backoff_max", "must be at least backoff_base");
        }
        var providers = new Dictionary<string, CallLimits>(StringComparer.Ordinal);
        if (reader.Field(limits, "providers") is { } providersNode)
        {
            var map = reader.Mapping(providersNode, "limits.providers");
            var known = ChatProviders.All.Select(p => p.Prefix).ToArray();
            foreach (var (key, value) in map.Children)
            {
                var name = reader.String(key, "limits.providers");
                if (!known.Contains(name))
                {
                    throw reader.Error(key, $"limits.providers.{name}", $"unknown provider (known: {string.Join(", ", known)})");
                }
                var entry = reader.Mapping(value, $"limits.providers.{name}");
                reader.OnlyFields(entry, $"limits.providers.{name}.", "concurrency", "requests_per_minute", "tokens_per_minute");
                providers[name] = reader.Limits(entry, $"limits.providers.{name}");
            }
        }
        var maxResponse = reader.Field(limits, "max_response_bytes") is { } bytes
            ? reader.Int(bytes, "limits.max_response_bytes", CallPolicy.MinResponseBytes) : (long?)null;
        return plan with { Resilience = r, ProviderLimits = providers, MaxResponseBytes = maxResponse };
    }

    private static PlanFile ReadModels(Reader reader, YamlValue node, PlanFile plan, PlanChecks checks)
    {
        if (node is not YamlList sequence || sequence.Children.Count == 0)
        {
            throw reader.Error(node, "models", "expected a list of model ids (or of {id, settings, …} entries)");
        }
        var ids = new List<string>();
        var specs = new List<string>();
        var limits = new Dictionary<string, CallLimits>(StringComparer.Ordinal);
        var prices = new List<ModelPrice>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            var field = $"models[{i}]";
            string id;
            string? name = null;
            if (item is YamlScalar)
            {
                (id, name) = ModelEntry.Parse(reader.String(item, field), field);
            }
            else
            {
                var entry = reader.Mapping(item, field);
                reader.OnlyFields(entry, field + ".", ModelFields);
                id = reader.String(reader.Field(entry, "id") ?? throw reader.Error(entry, $"{field}.id", "required field is missing"), $"{field}.id");
                if (reader.Field(entry, "name") is { } nameNode)
                {
                    var given = reader.String(nameNode, $"{field}.name").Trim();
                    try
                    {
                        name = ModelEntry.Parse($"{given}={id}", $"{field}.name").Name;
                    }
                    catch (InputException ex)
                    {
                        throw reader.Error(nameNode, $"{field}.name", ex.Problem);
                    }
                    if (name != given)
                    {
                        throw reader.Error(nameNode, $"{field}.name", "a display name holds no '/', '?' or '=' (it would read as a model id)");
                    }
                }
                if (reader.Field(entry, "settings") is { } settingsNode)
                {
                    if (id.Contains('?', StringComparison.Ordinal))
                    {
                        throw reader.Error(settingsNode, $"{field}.settings", "give settings either in the id (?key=value) or here, not both");
                    }
                    var settings = reader.Mapping(settingsNode, $"{field}.settings");
                    reader.OnlyFields(settings, $"{field}.settings.", [.. ModelSpec.Keys]);
                    // In a fixed order, so the same settings always make the same model id (and trial ids).
                    var query = ModelSpec.Keys
                        .Select(k => (Key: k, Node: reader.Field(settings, k)))
                        .Where(p => p.Node is not null)
                        .Select(p => $"{p.Key}={Uri.EscapeDataString(reader.String(p.Node!, $"{field}.settings.{p.Key}"))}")
                        .ToList();
                    if (query.Count > 0)
                    {
                        id += "?" + string.Join("&", query);
                    }
                }
                var modelLimits = reader.Limits(entry, field);
                if (!modelLimits.IsEmpty)
                {
                    limits[id] = modelLimits;
                }
                if (reader.Field(entry, "price") is { } priceNode)
                {
                    var price = reader.Mapping(priceNode, $"{field}.price");
                    reader.OnlyFields(price, $"{field}.price.", "input", "output", "cached_input", "cache_write", "batch");
                    prices.Add(new ModelPrice(Models.Costs.PriceTable.WithoutSettings(id),
                        reader.Number(reader.Field(price, "input") ?? throw reader.Error(price, $"{field}.price.input", "required field is missing"), $"{field}.price.input", 0),
                        reader.Number(reader.Field(price, "output") ?? throw reader.Error(price, $"{field}.price.output", "required field is missing"), $"{field}.price.output", 0),
                        reader.Field(price, "cached_input") is { } cached ? reader.Number(cached, $"{field}.price.cached_input", 0) : null,
                        reader.Field(price, "cache_write") is { } written ? reader.Number(written, $"{field}.price.cache_write", 0) : null,
                        reader.Field(price, "batch") is { } batch ? reader.Number(batch, $"{field}.price.batch", 0) : null));
                }
            }
            try
            {
                checks.ResolveModel(id);
            }
            catch (InputException ex)
            {
                throw reader.Error(item, field, $"{id}: {ex.Problem}");
            }
            if (specs.Contains(id))
            {
                throw reader.Error(item, field, $"{id} is listed twice");
            }
            specs.Add(id);
            ids.Add(name is null ? id : $"{name}={id}");
        }
        return plan with { Models = ids, ModelLimits = limits, ModelPrices = prices };
    }

    /// <summary>Typed access to YAML nodes; every problem names the plan file, the node's line and the field.</summary>
    private sealed class Reader(string path, string folder)
    {
        public InputException Error(YamlValue node, string field, string problem) => new($"{path}:{node.Line}", field, problem);

        public YamlValue? Field(YamlMap map, string name)
        {
            foreach (var (key, value) in map.Children)
            {
                if (key is YamlScalar { Value: var k } && k == name)
                {
                    return value is YamlScalar { Value: null or "" or "~" or "null", Plain: true } ? null : value;
                }
            }
            return null;
        }

        public void OnlyFields(YamlMap map, string prefix, params string[] known)
        {
            foreach (var (key, _) in map.Children)
            {
                var name = key is YamlScalar scalar ? scalar.Value ?? "" : "?";
                if (!known.Contains(name))
                {
                    throw Error(key, prefix + name, $"unknown field (known: {string.Join(", ", known)})");
                }
            }
        }

        public YamlMap Mapping(YamlValue node, string field) =>
            node as YamlMap ?? throw Error(node, field, "expected a mapping of fields");

        public string String(YamlValue node, string field) =>
            node is YamlScalar { Value: { Length: > 0 } value } ? value : throw Error(node, field, "expected a non-empty text value");

        /// <summary>A list of texts, or one text.</summary>
        public List<(string Value, YamlValue Node)> Strings(YamlValue node, string field)
        {
            if (node is YamlScalar)
            {
                return [(String(node, field), node)];
            }
            if (node is not YamlList sequence || sequence.Children.Count == 0)
            {
                throw Error(node, field, "expected a non-empty list");
            }
            var result = sequence.Children.Select((child, i) => (String(child, $"{field}[{i}]"), child)).ToList();
            var duplicate = result.GroupBy(r => r.Item1).FirstOrDefault(g => g.Count() > 1);
            return duplicate is null ? result : throw Error(duplicate.Last().child, field, $"'{duplicate.Key}' is listed twice");
        }

        public int Int(YamlValue node, string field, int min, int max = int.MaxValue) =>
            int.TryParse(String(node, field), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw Error(node, field, $"expected a whole number {(max == int.MaxValue ? $"≥ {min}" : $"in [{min}, {max}]")}, found '{Text(node)}'");

        public ulong UInt64(YamlValue node, string field) =>
            ulong.TryParse(String(node, field), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Error(node, field, $"expected a whole number ≥ 0, found '{Text(node)}'");

        public double Number(YamlValue node, string field, double min, double max = double.MaxValue) =>
            double.TryParse(String(node, field), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max
                ? value
                : throw Error(node, field, $"expected a number {(max == double.MaxValue ? $"≥ {min}" : $"in [{min}, {max}]")}, found '{Text(node)}'");

        public bool Bool(YamlValue node, string field) => String(node, field) switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(node, field, $"expected true or false, found '{Text(node)}'"),
        };

        public TimeSpan Duration(YamlValue node, string field, double minSeconds) =>
            CallPolicy.TryParseDuration(String(node, field), out var value) && value.TotalSeconds >= minSeconds
                ? value
                : throw Error(node, field, $"expected a duration from {minSeconds.ToString(CultureInfo.InvariantCulture)} s to 24h such as 500ms, 30s, 2m or 1h, found '{Text(node)}'");

        /// <summary>A path, relative to the plan's folder; <c>~/</c> is the home folder.</summary>
        public string PathValue(YamlValue node, string field)
        {
            var text = String(node, field);
            if (text == "~" || text.StartsWith("~/", StringComparison.Ordinal))
            {
                text = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), text.Length > 2 ? text[2..] : "");
            }
            return System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, text));
        }

        public CallLimits Limits(YamlMap map, string field) => new(
            Field(map, "concurrency") is { } c ? Int(c, $"{field}.concurrency", 1) : null,
            Field(map, "requests_per_minute") is { } r ? Int(r, $"{field}.requests_per_minute", 1) : null,
            Field(map, "tokens_per_minute") is { } t ? Int(t, $"{field}.tokens_per_minute", 1) : null);

        private static string Text(YamlValue node) => node is YamlScalar { Value: var v } ? v ?? "" : node.Kind;
    }
}
