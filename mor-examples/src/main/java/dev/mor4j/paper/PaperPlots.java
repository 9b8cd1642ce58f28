package dev.mor4j.paper;

import dev.mor4j.cli.TrainingPlots;
import dev.mor4j.core.AtomicFiles;
import dev.mor4j.core.MorException;
import dev.mor4j.llama.eval.RouterProbe;
import dev.mor4j.llama.train.RouterStats;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The experiment's pictures (XChart): the mean training loss of every method per step, the wall-clock of every
 * method's runs, and a Fig.-7-style router heat map of one run (one panel per task: module × expert, the mean router
 * weight over the task's test prompts, {@link TrainingPlots#router}).
 */
final class PaperPlots {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private PaperPlots() {
    }

    /** One line per method: its training loss per step, averaged over its seeds. */
    static void trainingCurves(List<MethodSummary> summaries, Path png) {
        XYChart chart = new XYChartBuilder().width(1000).height(600)
                .title("Training loss per step (mean over seeds)").xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        int drawn = 0;
        for (MethodSummary s : summaries) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < s.meanLoss().length; i++) {
                if (Double.isFinite(s.meanLoss()[i])) {
                    x.add(i + 1.0);
                    y.add(s.meanLoss()[i]);
                }
            }
            if (!x.isEmpty()) {
                XYSeries series = chart.addSeries(s.method(), x, y);
                series.setMarker(x.size() == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
                drawn++;
            }
        }
        if (drawn == 0) {
            throw new MorException(png + ": no finite training loss to plot");
        }
        write(chart, png);
    }

    /** Two bars per method: the mean wall-clock of a run's training and of its evaluation. */
    static void wallClock(List<MethodSummary> summaries, Path png) {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(600)
                .title("Wall-clock per run (mean over seeds)").xAxisTitle("method").yAxisTitle("seconds").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setStacked(true);
        List<String> names = summaries.stream().map(MethodSummary::method).toList();
        chart.addSeries("training", names, summaries.stream().map(s -> (Number) s.trainSeconds().mean()).toList());
        chart.addSeries("evaluation", names, summaries.stream().map(s -> (Number) s.evalSeconds().mean()).toList());
        write(chart, png);
    }

    /** A run's router weights per task on the test prompts: one heat map (module × expert) per task. */
    static void router(RouterProbe.TaskWeights w, Path png, String what) {
        RouterStats stats = new RouterStats(w.modules(), w.experts());
        Map<String, RouterStats.DatasetSums> sums = new TreeMap<>();
        for (int t = 0; t < w.tasks().size(); t++) {
            double[][] s = new double[w.modules().size()][w.experts()];
            for (int m = 0; m < s.length; m++) {
                for (int e = 0; e < w.experts(); e++) {
                    s[m][e] = w.weights()[t][m][e] * w.prompts()[t]; // the mean is sums / prompts
                }
            }
            sums.put(w.tasks().get(t), new RouterStats.DatasetSums(w.prompts()[t], s));
        }
        stats.restore(new RouterStats.Snapshot(w.modules(), w.experts(), sums), png.toString());
        TrainingPlots.router(stats, png, "prompts", what);
    }

    private static void write(Chart<?, ?> chart, Path png) {
        try {
            BufferedImage image = BitmapEncoder.getBufferedImage(chart);
            AtomicFiles.write(png, tmp -> {
                if (!ImageIO.write(image, "png", tmp.toFile())) {
                    throw new MorException(png + ": no PNG writer available");
                }
            });
        } catch (IOException e) {
            throw new MorException(png + ": cannot write: " + e.getMessage(), e);
        }
    }
}
