// The board (作战图): the child regions' bar chart (Apache ECharts, vendored); fupin.js sorts its table.
// Data comes from the page as JSON (Django's json_script); no inline script (strict CSP).
(function () {
  var holder = document.getElementById("chart-data");
  var el = document.getElementById("chart");
  if (holder && el && window.echarts) {
    var data = JSON.parse(holder.textContent);
    if (data) {
      el.style.width = "100%";
      el.style.height = Math.max(240, 28 * data.labels.length + 80) + "px";
      var chart = window.echarts.init(el, null, {renderer: "canvas"});
      // worst first, from the top: ECharts draws a category axis bottom-up, so reverse it
      chart.setOption({
        title: {text: data.title, left: "center", textStyle: {fontSize: 14}},
        grid: {left: 8, right: 48, top: 40, bottom: 8, containLabel: true},
        tooltip: {trigger: "axis", renderMode: "richText"},
        xAxis: {type: "value"},
        yAxis: {type: "category", data: data.labels.slice().reverse()},
        series: [{type: "bar", data: data.values.slice().reverse(), itemStyle: {color: "#b71c1c"},
                  label: {show: true, position: "right"}}]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.ready = "1";
    }
  }
})();
