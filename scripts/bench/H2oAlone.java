import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import hex.ModelCategory;
import hex.genmodel.MojoModel;
import hex.genmodel.easy.EasyPredictModelWrapper;
import hex.genmodel.easy.RowData;
import hex.genmodel.easy.exception.PredictException;
import java.io.FileReader;
import java.io.Reader;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ceiling for the h2o handler: H2O's EasyPredictModelWrapper scoring rows in a
 * plain Java loop, with no Python, no IPC and no Node-RED. Each row is made into a
 * RowData and scored, as the handler does. Prints one JSON line.
 *
 * java -cp '.h2o/libs/*' scripts/bench/H2oAlone.java MOJO ROWS_JSON [SECONDS]
 *
 * ROWS_JSON: a list of rows (objects of named columns), or models/h2o/holdout.json
 * (the entry named for the MOJO's file is used).
 */
public final class H2oAlone {
  public static void main(String[] args) throws Exception {
    String mojo = args[0];
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5.0;
    List<JsonObject> rows = readRows(args[1], Paths.get(mojo).getFileName().toString());
    EasyPredictModelWrapper wrapper = new EasyPredictModelWrapper(
        new EasyPredictModelWrapper.Config().setModel(MojoModel.load(mojo)).setConvertUnknownCategoricalLevelsToNa(true));
    ModelCategory category = wrapper.getModelCategory();

    for (int i = 0; i < 20_000; i++) score(wrapper, category, rows.get(i % rows.size())); // warm up the JIT
    long scored = 0;
    double sink = 0;
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      for (int i = 0; i < 500; i++) sink += score(wrapper, category, rows.get((int) (scored++ % rows.size())));
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    System.out.printf("{\"rows_per_s\":%.0f,\"model\":\"%s\",\"category\":\"%s\",\"checksum\":%s}%n",
        scored / elapsed, Paths.get(mojo).getFileName(), category, sink);
  }

  private static List<JsonObject> readRows(String path, String mojoName) throws Exception {
    JsonElement json;
    try (Reader reader = new FileReader(path)) {
      json = new Gson().fromJson(reader, JsonElement.class);
    }
    JsonArray array = json.isJsonArray() ? json.getAsJsonArray() : json.getAsJsonObject().getAsJsonObject(mojoName).getAsJsonArray("rows");
    List<JsonObject> rows = new ArrayList<>();
    for (JsonElement row : array) rows.add(row.getAsJsonObject());
    return rows;
  }

  /** A number from the prediction, so the JIT cannot drop the work. */
  private static double score(EasyPredictModelWrapper wrapper, ModelCategory category, JsonObject json) throws PredictException {
    RowData row = new RowData();
    for (Map.Entry<String, JsonElement> cell : json.entrySet()) {
      JsonElement value = cell.getValue();
      if (value.isJsonNull()) continue; // a missing value: left out, as the handler does
      row.put(cell.getKey(), value.getAsJsonPrimitive().isNumber() ? (Object) value.getAsDouble() : value.getAsString());
    }
    switch (category) {
      case Binomial:
        return wrapper.predictBinomial(row).classProbabilities[0];
      case Multinomial:
        return wrapper.predictMultinomial(row).classProbabilities[0];
      default:
        return wrapper.predictRegression(row).value;
    }
  }
}
