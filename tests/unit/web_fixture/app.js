// app.js - fixture script
console.log("ok");
