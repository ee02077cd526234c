// The bundle's entry: uPlot's own stylesheet, ours after it, then the page.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import "./app.tsx";
