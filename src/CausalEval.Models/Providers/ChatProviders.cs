using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Azure.Identity;
using CausalEval.Core;
using CausalEval.Core.Agents;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OpenAI;
using OpenAI.Chat;
using CausalEval.Models.Middleware;

namespace CausalEval.Models.Providers;

/// <summary>An environment variable a provider reads: its name, whether it must be set, and what it is for.</summary>
public sealed record EnvironmentSetting(string Name, bool Required, string Purpose);

/// <summary>What <c>causaleval models</c> shows about a provider.</summary>
public sealed record ProviderInfo(string Prefix, string Syntax, string Example, string Description, IReadOnlyList<EnvironmentSetting> Environment);

/// <summary>
/// Where providers read their settings (the real environment by default), and the most bytes a response body may have
/// (<see cref="ProviderHttp"/>).
/// </summary>
public sealed record ProviderEnvironment(Func<string, string?> Variables, long MaxResponseBytes = ProviderHttp.DefaultMaxResponseBytes)
{
    /// <summary>The process environment, with the default response cap.</summary>
    public static ProviderEnvironment Process { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>A variable's value; null when unset or empty.</summary>
    public string? Get(string name) => Variables(name) is { Length: > 0 } value ? value : null;

    /// <summary>A batch run's Batch API machinery: <c>openai/</c> and <c>azure/</c> chat requests go into its batches; null: live calls.</summary>
    public Batch.BatchRuns? Batches { get; init; }

    /// <summary>Scrubs every provider's key found in the environment (a server may echo any of them).</summary>
    public KeyRedactor Redactor() => new(ChatProviders.KeyVariables.Select(Get));
}

/// <summary>
/// Model ids → Microsoft.Extensions.AI <see cref="IChatClient"/> pipelines (DESIGN §2.2). Each provider builds its SDK's
/// client once per model id (clients are thread-safe and shared by all trials), wraps it with a
/// <see cref="ChatClientBuilder"/> — the place for delegating middlewares such as caching and resilience — and hands it
/// to the LLM agent. Keys are read from the environment only and are never written anywhere.
/// </summary>
public static partial class ChatProviders
{
    /// <summary>The OpenAI API key's variable.</summary>
    public const string OpenAiKey = "OPENAI_API_KEY";
    /// <summary>The variable of another OpenAI endpoint.</summary>
    public const string OpenAiBaseUrl = "OPENAI_BASE_URL";
    /// <summary>The Azure OpenAI resource endpoint's variable.</summary>
    public const string AzureEndpoint = "AZURE_OPENAI_ENDPOINT";
    /// <summary>The Azure OpenAI API key's variable (unset: Entra ID).</summary>
    public const string AzureKey = "AZURE_OPENAI_API_KEY";
    /// <summary>The Ollama server address's variable.</summary>
    public const string OllamaHost = "OLLAMA_HOST";
    /// <summary>The API key variable of OpenAI-compatible servers.</summary>
    public const string CompatibleKey = "OPENAI_COMPATIBLE_API_KEY";
    /// <summary>Ollama's default address.</summary>
    public const string DefaultOllamaHost = "http://localhost:11434";

    /// <summary>Azure OpenAI REST version sent as <c>api-version</c> (latest GA with the deployments route).</summary>
    public const AzureOpenAIClientOptions.ServiceVersion AzureApiVersion = AzureOpenAIClientOptions.ServiceVersion.V2024_10_21;

    /// <summary>Every environment variable that holds a key, for redaction.</summary>
    public static IEnumerable<string> KeyVariables =>
        All.SelectMany(p => p.Environment).Select(e => e.Name).Where(n => n.EndsWith("_KEY", StringComparison.Ordinal)).Distinct();

    /// <summary>Every provider, as <c>causaleval models</c> lists them.</summary>
    public static readonly IReadOnlyList<ProviderInfo> All =
    [
        new("openai", "openai/<model>[?settings]", "openai/gpt-4o-mini?temperature=0", "OpenAI chat completions (OpenAI SDK)",
            [new(OpenAiKey, true, "API key"), new(OpenAiBaseUrl, false, "another endpoint, e.g. a proxy (default https://api.openai.com/v1)")]),
        new("azure", "azure/<deployment>[?settings]", "azure/my-gpt-4o-deployment", "Azure OpenAI deployment (Azure.AI.OpenAI; api-version 2024-10-21)",
            [new(AzureEndpoint, true, "resource endpoint, https://<resource>.openai.azure.com"), new(AzureKey, false, "API key; unset: Entra ID (DefaultAzureCredential)")]),
        new("ollama", "ollama/<model>[?settings]", "ollama/llama3.2:3b", "a local Ollama server (OllamaSharp, /api/chat)",
            [new(OllamaHost, false, $"server address (default {DefaultOllamaHost})")]),
        new("openai-compatible", "openai-compatible/<model>@<base-url>[?settings]", "openai-compatible/qwen2.5-7b@http://localhost:8000/v1",
            "any OpenAI-compatible chat-completions server: vLLM, LM Studio, llama.cpp server, gateways",
            [new(CompatibleKey, false, "API key, when the server wants one")]),
        AnthropicInfo,
        .. Presets.Select(p => p.Info),
    ];

    /// <summary>The chat client of one model id, with its middlewares, as a run builds it (for tools such as <c>bench chat</c>).</summary>
    /// <param name="environment">Where the provider's settings are read.</param>
    /// <param name="modelId">A chat model id such as <c>openai/gpt-4o-mini?temperature=0</c>.</param>
    /// <param name="middleware">Adds the caller's middlewares, knowing where the calls go.</param>
    /// <param name="time">The clock of the error classification (Retry-After dates).</param>
    public static IChatClient CreateClient(ProviderEnvironment environment, string modelId, Action<ChatClientBuilder, ChatEndpoint>? middleware = null,
        TimeProvider? time = null)
    {
        var slash = modelId.IndexOf('/');
        var factory = Factories(environment, middleware, time).FirstOrDefault(p => slash > 0 && p.Prefix == modelId[..slash])?.Create
            ?? throw new InputException("--model", modelId, "not a chat model id (see `causaleval models`)");
        var (model, _) = ModelSpec.Parse(modelId[(slash + 1)..], modelId);
        return factory(model, modelId);
    }

    /// <summary>The provider name of chat clients handed over in-process (the library API's <c>EvaluatedModel.FromChatClient</c>).</summary>
    public const string InProcessProvider = "in-process";

    /// <summary>
    /// A caller's own chat client for the model <paramref name="modelId"/> (settings already taken off: <paramref name="model"/>)
    /// in the same pipeline as a provider's SDK client: error classification and key scrubbing (the process environment's
    /// keys), then <paramref name="middleware"/> (response cache, resilience, limits).
    /// </summary>
    public static IChatClient InProcess(IChatClient client, string model, string modelId, Action<ChatClientBuilder, ChatEndpoint>? middleware = null,
        TimeProvider? time = null) =>
        Pipeline(InProcessProvider, (client, model), model, modelId, ProviderEnvironment.Process.Redactor(), middleware, time ?? TimeProvider.System);

    /// <summary>
    /// One factory per prefix: model name and model id → the model's pipeline (the SDK client, error classification and key
    /// redaction, then <paramref name="middleware"/>: the first added is outermost). Keys are read from
    /// <paramref name="environment"/> when a client is made; <paramref name="time"/> is the clock of the error classification.
    /// </summary>
    public static IReadOnlyList<ChatClientFactory> Factories(ProviderEnvironment environment, Action<ChatClientBuilder, ChatEndpoint>? middleware = null,
        TimeProvider? time = null) => [.. Clients(environment, middleware, time).Select(p => new ChatClientFactory(p.Prefix, p.Client))];

    private static IEnumerable<(string Prefix, Func<string, string, IChatClient> Client)> Clients(ProviderEnvironment environment,
        Action<ChatClientBuilder, ChatEndpoint>? middleware, TimeProvider? time)
    {
        var clock = time ?? TimeProvider.System;
        var redactor = environment.Redactor();
        yield return ("openai", (name, id) => Pipeline("openai", OpenAi(name, id, environment), name, id, redactor, middleware, clock));
        yield return ("azure", (name, id) => Pipeline("azure", Azure(name, id, environment), name, id, redactor, middleware, clock));
        yield return ("ollama", (name, id) => Pipeline("ollama", Ollama(name, id, environment), name, id, redactor, middleware, clock));
        yield return ("openai-compatible", (name, id) =>
        {
            var (client, endpoint) = Compatible(name, id, environment);
            return Pipeline("openai-compatible", (client, endpoint), name[..name.LastIndexOf('@')], id, redactor, middleware, clock);
        });
        yield return ("anthropic", (name, id) => Pipeline("anthropic", AnthropicMessages(name, id, environment, redactor, clock), name, id, redactor,
            middleware, clock));
        foreach (var preset in Presets)
        {
            yield return (preset.Prefix, (name, id) => Pipeline(preset.Prefix, Preset(preset, name, id, environment), name, id, redactor, middleware, clock));
        }
    }

    /// <summary>The activity source and meter of the chat pipelines' Microsoft.Extensions.AI telemetry (GenAI semantic conventions).</summary>
    public const string TelemetrySource = "CausalEval.Chat";

    /// <summary>
    /// SDK client → error classification and key redaction → OpenTelemetry (GenAI conventions) → the caller's middlewares
    /// (the first added is outermost).
    /// </summary>
    private static IChatClient Pipeline(string provider, (IChatClient Client, string Endpoint) inner, string model, string modelId, KeyRedactor redactor,
        Action<ChatClientBuilder, ChatEndpoint>? middleware, TimeProvider time)
    {
        // Ollama's /api/chat streams NDJSON: the call is made streamed, so a slow local model sends its first bytes at once.
        var builder = new ChatClientBuilder(new ProviderErrors(inner.Client, redactor, time, streamed: provider == "ollama"));
        middleware?.Invoke(builder, new ChatEndpoint(provider, inner.Endpoint, model, modelId));
        // Innermost: one gen_ai.* span and duration/token measurement per attempt sent to the provider (a cached answer sends
        // none); prompts and answers stay out of the telemetry (EnableSensitiveData is off).
        builder.UseOpenTelemetry(sourceName: TelemetrySource);
        return builder.Build();
    }

    private static string Require(ProviderEnvironment environment, string variable, string modelId) =>
        environment.Get(variable) ?? throw new InputException("--model", modelId, $"{variable} is not set (see `causaleval models`)");

    private static Uri Url(string text, string what, string modelId) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new InputException("--model", modelId, $"{what} '{text}' is not an http(s) URL");

    private static (IChatClient, string) OpenAi(string model, string modelId, ProviderEnvironment environment)
    {
        var key = Require(environment, OpenAiKey, modelId);
        var baseUrl = environment.Get(OpenAiBaseUrl) is { } custom ? Url(custom, OpenAiBaseUrl, modelId) : null;
        OpenAIClientOptions Options(ProviderEnvironment transport, DelegatingHandler? outer = null)
        {
            var options = Transport(new OpenAIClientOptions(), transport, outer);
            if (baseUrl is not null)
            {
                options.Endpoint = baseUrl;
            }
            return options;
        }
        // A batch run: the chat client's requests are parked for the Batch API, which its own file and batch clients call.
        var batch = environment.Batches?.Handler(modelId, () =>
        {
            var files = Options(environment with { MaxResponseBytes = environment.Batches!.Settings.MaxDownloadBytes });
#pragma warning disable OPENAI001 // the SDK marks its batch client experimental
            return new Batch.OpenAiBatchService(new OpenAI.Files.OpenAIFileClient(new ApiKeyCredential(key), files),
                new OpenAI.Batch.BatchClient(new ApiKeyCredential(key), files), "/v1/chat/completions");
#pragma warning restore OPENAI001
        });
        var chat = Options(environment, batch);
        return (new ChatClient(model, new ApiKeyCredential(key), chat).AsIChatClient(), (baseUrl ?? new Uri("https://api.openai.com/v1")).ToString());
    }

    private static (IChatClient, string) Azure(string deployment, string modelId, ProviderEnvironment environment)
    {
        var endpoint = Url(Require(environment, AzureEndpoint, modelId), AzureEndpoint, modelId);
        AzureOpenAIClient Client(ProviderEnvironment transport, DelegatingHandler? outer = null)
        {
            var options = Transport(new AzureOpenAIClientOptions(AzureApiVersion), transport, outer);
            return environment.Get(AzureKey) is { } key
                ? new AzureOpenAIClient(endpoint, new ApiKeyCredential(key), options)
                : new AzureOpenAIClient(endpoint, new DefaultAzureCredential(), options);
        }
        // A batch run: Azure's Batch API needs a global-batch deployment; the request lines and the batch use /chat/completions.
        var batch = environment.Batches?.Handler(modelId, () =>
        {
            var files = Client(environment with { MaxResponseBytes = environment.Batches!.Settings.MaxDownloadBytes });
#pragma warning disable OPENAI001 // the SDK marks its batch client experimental
            return new Batch.OpenAiBatchService(files.GetOpenAIFileClient(), files.GetBatchClient(), "/chat/completions");
#pragma warning restore OPENAI001
        });
        return (Client(environment, batch).GetChatClient(deployment).AsIChatClient(), endpoint.ToString());
    }

    private static (IChatClient, string) Ollama(string model, string modelId, ProviderEnvironment environment)
    {
        var host = environment.Get(OllamaHost) ?? DefaultOllamaHost;
        // OLLAMA_HOST is often written without a scheme (Ollama's own CLI accepts host:port).
        var uri = Url(host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host, OllamaHost, modelId);
        var http = ProviderHttp.Create(environment.MaxResponseBytes);
        http.BaseAddress = uri;
        return (new OllamaApiClient(http, model), uri.ToString());
    }

    private static (IChatClient, string) Compatible(string rest, string modelId, ProviderEnvironment environment)
    {
        var at = rest.LastIndexOf('@');
        if (at <= 0 || at == rest.Length - 1)
        {
            throw new InputException("--model", modelId, "expected openai-compatible/<model>@<base-url>, e.g. openai-compatible/qwen2.5-7b@http://localhost:8000/v1");
        }
        var options = Transport(new OpenAIClientOptions { Endpoint = Url(rest[(at + 1)..], "base URL", modelId) }, environment);
        // The SDK needs some key; servers without authentication ignore it.
        var key = environment.Get(CompatibleKey) ?? "no-key";
        return (new ChatClient(rest[..at], new ApiKeyCredential(key), options).AsIChatClient(), options.Endpoint!.ToString());
    }

    /// <summary>
    /// The SDK's transport without its own retries and network timeout: the resilience middleware retries (honouring
    /// Retry-After, on an injectable clock) and times each attempt and the whole call, so the SDK must not do it again.
    /// It sends through <see cref="ProviderHttp"/>: no redirects, a capped response size.
    /// </summary>
    private static T Transport<T>(T options, ProviderEnvironment environment, DelegatingHandler? outer = null) where T : ClientPipelineOptions
    {
        options.RetryPolicy = new ClientRetryPolicy(maxRetries: 0);
        options.NetworkTimeout = Timeout.InfiniteTimeSpan;
        options.Transport = new HttpClientPipelineTransport(ProviderHttp.Create(environment.MaxResponseBytes, outer));
        return options;
    }
}

/// <summary>Makes the chat clients of one provider's model ids: <see cref="Create"/>(model name, model id).</summary>
/// <param name="Prefix">The ids' prefix, e.g. <c>openai</c>.</param>
/// <param name="Create">Model name (settings taken off) and whole model id → the model's pipeline.</param>
public sealed record ChatClientFactory(string Prefix, Func<string, string, IChatClient> Create);
