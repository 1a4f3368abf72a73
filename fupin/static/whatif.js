// Policy what-if: the households' change distribution (Apache ECharts, vendored), data from the
// page as JSON (json_script); no inline script (strict CSP). fupin.js sorts its tables.
(function () {
  var holder = document.getElementById("chart-data");
  var el = document.getElementById("chart");
  if (holder && el && window.echarts) {
    var data = JSON.parse(holder.textContent);
    if (data) {
      el.style.width = "100%";
      el.style.height = "260px";
      var chart = window.echarts.init(el, null, {renderer: "canvas"});
      chart.setOption({
        title: {text: data.title, left: "center", textStyle: {fontSize: 14}},
        grid: {left: 8, right: 8, top: 40, bottom: 8, containLabel: true},
        tooltip: {trigger: "axis", renderMode: "richText"},
        xAxis: {type: "category", data: data.labels, axisLabel: {interval: 0, rotate: 30}},
        yAxis: {type: "value"},
        series: [{type: "bar", data: data.values, itemStyle: {color: "#b71c1c"}, label: {show: true, position: "top"}}]
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.ready = "1";
    }
  }
})();
