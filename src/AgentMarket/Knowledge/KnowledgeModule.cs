using AgentMarket.Knowledge.Extraction;
using AgentMarket.Knowledge.Indexing;
using AgentMarket.Knowledge.Jobs;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Knowledge.Search;

namespace AgentMarket.Knowledge;

/// <summary>
/// The knowledge base (SPEC §6 Configure › Training): knowledge bases, training documents (files, Q&amp;A pairs,
/// topics), background processing into indexed chunks, search, and the runtime's retriever
/// (<see cref="KnowledgeRetrievers"/>).
/// </summary>
static class KnowledgeModule
{
    public static void AddKnowledge(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KnowledgeOptions>().BindConfiguration("Knowledge").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DocumentFiles>();
        services.AddSingleton<PdfText>();
        services.AddSingleton<TextExtractor>();
        services.AddSingleton<Embedder>();
        services.AddScoped<KnowledgeQuota>();
        services.AddScoped<TrainingDocumentIntake>();
        services.AddScoped<TrainingDocuments>();
        services.AddScoped<KnowledgeBases>();
        services.AddScoped<DocumentIndexer>();
        services.AddScoped<DocumentProcessor>();
        services.AddScoped<KnowledgeSearch>();
        services.AddScoped<FlowIngestion>();
        services.AddSingleton<KnowledgeRetrievers>();
        services.AddSingleton(new Subscriptions.Pages.TrainingTab(typeof(Pages.TrainingPanel)));
        services.AddSingleton<DocumentProcessingJob>();
        services.AddHostedService(provider => provider.GetRequiredService<DocumentProcessingJob>());
    }

    public static void MapKnowledge(this WebApplication app)
    {
        app.MapKnowledgeBases();
        app.MapTrainingDocuments();
    }
}
